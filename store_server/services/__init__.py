"""gRPC servicers: decode the request, call the domain and db, encode the answer."""
