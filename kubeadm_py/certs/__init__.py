"""Certificate lifecycle across the PKI and the kubeconfig files: renewal, expiration, the certs commands."""
