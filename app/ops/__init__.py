"""Operations: health and readiness for the load balancer, metrics for Prometheus, backup and restore."""
