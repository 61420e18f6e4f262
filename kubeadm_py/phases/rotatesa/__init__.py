"""Phases of ``certs rotate-sa`` (see kubeadm_py/certs/rotatesa.py)."""
