"""Users, roles, log-in and log-out (local accounts and LDAP / Active Directory)."""
