"""The Tillpoint store server: owns the store's data and serves tills over gRPC."""
