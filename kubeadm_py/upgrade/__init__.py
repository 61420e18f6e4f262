"""Upgrade domain logic: version policy, plan, the stored configuration at a target version, the
static Pod swap."""
