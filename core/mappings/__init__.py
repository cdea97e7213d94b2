"""Company mappings: payroll company → Visma company, ledger and cost-centre mappings, the chart cache."""
