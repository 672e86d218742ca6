"""The RPC being served, for code that needs it below the servicer (scope checks, callers)."""

from contextvars import ContextVar

# "/tripsage.trips.v1.TripService/GetTrip"; set by the kit's ServerKit interceptor.
rpc_method_var: ContextVar[str] = ContextVar("rpc_method", default="")
