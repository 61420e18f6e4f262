"""Bootstrap tokens (model, generation, validation, Secret encoding), the detached JWS the
bootstrap signer puts into ``cluster-info`` and CA public-key pins."""
