"""Streamlit helpers of the dashboard pages: the frame, feedback, the status vocabulary drawn, tables, progress.

They live beside `pages/` (never in it) so that Streamlit lists only page scripts as pages."""
