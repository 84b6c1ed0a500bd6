"""Digital forms (e-tjänster): a registry of forms, the employment contract order first."""
