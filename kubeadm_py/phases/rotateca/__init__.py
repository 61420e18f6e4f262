"""``certs rotate-ca``: rotating the cluster CA in stages across nodes."""
