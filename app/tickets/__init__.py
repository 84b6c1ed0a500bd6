"""Cases: asking a question, "Mina ärenden", the specialists' workspace, service levels and e-mail."""
