"""mTLS between the stores' agents and HQ: the chain's CA and its certificates
(`pki`), and the gRPC credentials built from those files (`tls`)."""
