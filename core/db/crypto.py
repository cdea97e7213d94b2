"""Encryption of tokens at rest (Fernet: AES-128-CBC + HMAC-SHA256, from ``cryptography``).

Production refuses to start without ``TOKEN_ENCRYPTION_KEY``; demo mode makes a key once and keeps it in the data
folder in a file only its owner can read.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.db.files import private_folder
from core.errors import ServiceError
from core.settings import ConfigurationError, Settings

HOW_TO_MAKE_A_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class TokenDecryptionError(ServiceError):
    """A stored token cannot be decrypted: the encryption key changed. The account must be authorized again.

    A ServiceError, so the dashboard and the CLI explain it (with the re-authorization entry) instead of calling it
    unexpected."""

    def __init__(self, message: str):
        super().__init__(message, entry_id="reauthorize-needed", code="token_undecryptable")


class TokenCipher:
    """Encrypts and decrypts token strings. Thread-safe (Fernet keeps no mutable state)."""

    def __init__(self, key: str):
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError):
            raise ConfigurationError(
                f"TOKEN_ENCRYPTION_KEY is not a valid key (32 url-safe base64-encoded bytes). Make one with: "
                f"{HOW_TO_MAKE_A_KEY}"
            ) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise TokenDecryptionError(
                "A stored token cannot be decrypted with the current TOKEN_ENCRYPTION_KEY. Restore the previous key, "
                "or authorize the account again."
            ) from None

    def __repr__(self) -> str:
        return "TokenCipher(<key hidden>)"


def demo_key_file(data_dir: Path) -> Path:
    return data_dir / "token-encryption.key"


def resolve_encryption_key(settings: Settings) -> str:
    """The key to use: the configured one, or in demo mode one made and kept in the data folder (mode 0600)."""
    if settings.token_encryption_key:
        return settings.token_encryption_key
    if not settings.demo_mode:
        raise ConfigurationError(
            "TOKEN_ENCRYPTION_KEY is not set. Production mode stores Visma tokens encrypted and needs a key. "
            f"Make one with: {HOW_TO_MAKE_A_KEY} and set it in the environment or .streamlit/secrets.toml. "
            "Keep it safe: without it the stored tokens cannot be read."
        )
    path = demo_key_file(settings.data_dir)
    try:
        return _demo_key(path)
    except OSError as exc:
        raise ConfigurationError(
            f"Demo mode keeps its token encryption key in {path}, which cannot be written or read "
            f"({type(exc).__name__}). Set DATA_DIR to a folder this user can write, or set TOKEN_ENCRYPTION_KEY "
            f"(make one with: {HOW_TO_MAKE_A_KEY})."
        ) from None


def _demo_key(path: Path) -> str:
    private_folder(path.parent)
    if not path.exists():
        # Written to a private temporary file, then linked into place: a process starting at the same moment either
        # finds no file or a complete one (never an empty one), and only the first link wins.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first; use theirs
        finally:
            tmp.unlink(missing_ok=True)
    elif path.stat().st_mode & 0o077:  # copied or made by hand with wider rights: only its owner may read it
        os.chmod(path, 0o600)
    return path.read_text().strip()
