"""Static Pod manifests for the control plane and local etcd (see docs/control-plane.md)."""
