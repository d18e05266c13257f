#!/usr/bin/python3
"""A foreign tgshim.v1 client: Debian's python3-grpcio (gRPC C core) over TLS with a bearer token.

Drives a running shim through every client-facing call and prints one JSON object with what it saw;
the mocha test (python-interop.test.ts) judges it. Stubs come from scripts/proto-stubs-python.py.

Usage: interop_client.py STUB_DIR ADDRESS CA_PEM TOKEN
"""
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from tgshim.v1 import tgshim_pb2 as pb, tgshim_pb2_grpc as pbg  # noqa: E402

ADDRESS, CA, TOKEN = sys.argv[2], open(sys.argv[3], 'rb').read(), sys.argv[4]
AUTH = (('authorization', 'Bearer ' + TOKEN),)
out = {'grpc_version': grpc.__version__}


def code_of(fn):
    try:
        fn()
    except grpc.RpcError as e:
        return e.code().name
    return 'OK'


def stream(spec, frames=None, duration=None):
    t = pb.TrialSpec(traffic=spec, drain_s=0.0)
    if frames is not None:
        t.frames = frames
    else:
        t.duration_s = duration
    return t


channel = grpc.secure_channel(ADDRESS, grpc.ssl_channel_credentials(root_certificates=CA), options=(('grpc.ssl_target_name_override', 'localhost'),))
shim = pbg.TrafficGenShimServiceStub(channel)
health = health_pb2_grpc.HealthStub(channel)

out['health'] = health_pb2.HealthCheckResponse.ServingStatus.Name(health.Check(health_pb2.HealthCheckRequest(service='tgshim.v1.TrafficGenShimService'), metadata=AUTH, timeout=10).status)
info = shim.GetInfo(pb.GetInfoRequest(), metadata=AUTH, timeout=10)
out['info'] = {'api_major': info.api_major, 'api_minor': info.api_minor, 'backend': info.backend, 'generator': info.generator, 'multistream': info.capabilities.multistream}

# Authentication failures: no token, a wrong one, and a RunTrials stream opened without one.
out['auth'] = {
    'missing': code_of(lambda: shim.GetInfo(pb.GetInfoRequest(), timeout=10)),
    'wrong': code_of(lambda: shim.GetInfo(pb.GetInfoRequest(), metadata=(('authorization', 'Bearer not-the-token-0123456789'),), timeout=10)),
    'run_trials_stream': code_of(lambda: list(shim.RunTrials(iter(()), timeout=10))),
}

ports = [pb.Port(name='vsi-p0', speed_mbps=10000), pb.Port(name='vsi-p1', speed_mbps=10000)]
res = shim.Reserve(pb.ReserveRequest(client_name='python-interop', ports=ports, lease_s=60), metadata=AUTH, timeout=10)
sid = res.session_id
out['reserve'] = {'lease_s': res.lease_s, 'session_len': len(sid)}

spec = pb.TrafficSpec(
    stream=pb.StreamSpec(frame_size=64, l2=pb.L2(src_mac='00:00:00:00:00:01', dst_mac='00:00:00:00:00:02'),
                         l3=pb.L3(enabled=True, version=4, proto='udp', src_ip='1.1.1.1', dst_ip='90.90.90.90'),
                         l4=pb.L4(enabled=True, src_port=3000, dst_port=3001), multistream=4, stream_type=pb.STREAM_TYPE_L3),
    bidir=False, rate=pb.Rate(fps=100000), latency=False)

events = list(shim.RunTrial(pb.RunTrialRequest(session_id=sid, trial=stream(spec, frames=50000), progress_interval_ms=50), metadata=AUTH, timeout=60))
result = [e.result for e in events if e.WhichOneof('event') == 'result']
out['run_trial'] = {'results': len(result), 'tx': result[0].total.tx_frames if result else None, 'rx': result[0].total.rx_frames if result else None}


def trials():
    for n in (1000, 2000, 3000):
        yield pb.RunTrialsRequest(run=pb.RunTrialRequest(session_id=sid, trial=stream(spec, frames=n)))


results = [m.event.result.total.tx_frames for m in shim.RunTrials(trials(), metadata=AUTH, timeout=60) if m.event.WhichOneof('event') == 'result']
out['run_trials'] = results

out['invalid'] = code_of(lambda: list(shim.RunTrial(pb.RunTrialRequest(session_id=sid, trial=stream(spec, duration=1e-9)), metadata=AUTH, timeout=10)))

shim.StartContinuous(pb.StartContinuousRequest(session_id=sid, traffic=spec), metadata=AUTH, timeout=10)
time.sleep(0.3)
stopped = shim.StopContinuous(pb.StopContinuousRequest(session_id=sid), metadata=AUTH, timeout=30)
out['continuous'] = {'tx': stopped.result.total.tx_frames, 'duration_s': stopped.result.duration_s}

shim.Release(pb.ReleaseRequest(session_id=sid), metadata=AUTH, timeout=30)
out['after_release'] = code_of(lambda: shim.Renew(pb.RenewRequest(session_id=sid), metadata=AUTH, timeout=10))
print(json.dumps(out))
