"""eAccounting Link's service layer: everything the dashboard and the CLI do, without Streamlit."""
