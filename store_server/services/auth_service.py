"""tillpoint.v1.AuthService."""

from __future__ import annotations

import grpc

from store_server.auth import Authenticator, Principal
from store_server.interceptor import principal_of
from store_server.services.convert import ts
from tillpoint.v1 import auth_pb2, auth_pb2_grpc


def operator_pb(p: Principal) -> auth_pb2.Operator:
    return auth_pb2.Operator(
        operator_id=p.operator_id,
        name=p.name,
        role=p.role,
        permissions=sorted(str(x) for x in p.permissions),
        store_id=p.store_id,
        device_id=p.device_id,
    )


class AuthService(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, auth: Authenticator) -> None:
        self._auth = auth

    def Login(self, request: auth_pb2.LoginRequest, context: grpc.ServicerContext):
        token, principal = self._auth.login(request.operator_id, request.pin, request.device_id)
        return auth_pb2.LoginResponse(
            token=token, expires_at=ts(principal.expires_at), operator=operator_pb(principal)
        )

    def Logout(self, request: auth_pb2.LogoutRequest, context: grpc.ServicerContext):
        self._auth.logout(principal_of(context))
        return auth_pb2.LogoutResponse()

    def WhoAmI(self, request: auth_pb2.WhoAmIRequest, context: grpc.ServicerContext):
        return operator_pb(principal_of(context))
