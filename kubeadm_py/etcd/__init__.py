"""etcd v3 cluster membership for stacked control planes (join adds a member, reset removes it)."""
