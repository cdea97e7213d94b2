"""Company mappings: payroll company → Visma company (`companies`), ledger and cost-centre mappings (`ledger`), the
cached Visma chart they are checked against (`chart`), and their read models (`views`)."""
