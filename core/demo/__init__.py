"""Demo mode: the embedded sandbox, the demo login, demo payroll data and the Demo page's services."""
