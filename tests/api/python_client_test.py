#!/usr/bin/python3
"""The whole life of a sandbox driven by a Python client generated from proto/ alone.

Starts labrack-controller --all-in-one on loopback (real libvirt, software emulation), then,
through stubs that grpc_tools.protoc (Debian's grpc_tools 1.14 handles our protos) generates
at test time from proto/ and from Debian's grpc-proto (reflection v1) only, without
labrackctl: imports images/out/tiny as
manifest.yaml text and artifact chunks, imports it again with no bytes, applies
topologies/smoke.yaml as YAML text, checks a YAML error, creates a sandbox, waits for READY,
resets it, destroys it, and asks reflection v1 for the service. Everything it made (the
controller, its libvirt storage pool, any guest or network of its sandbox, the state folder)
is removed in a finally block, also on failure. Run with Debian's /usr/bin/python3, which has
python3-grpcio, python3-protobuf and python3-grpc-tools. Prints "N passed, M failed".
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

SOURCE_DIR = os.environ.get("LABRACK_SOURCE_DIR", os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..")))
BINARY_DIR = os.environ.get("LABRACK_BINARY_DIR", os.path.join(SOURCE_DIR, "build"))
GRPC_PROTO_DIR = "/usr/share/grpc-proto"
IMAGE_DIR = os.path.join(SOURCE_DIR, "images", "out", "tiny")
CHUNK_BYTES = 1 << 20  # the server takes messages up to 8 MiB
START_TIMEOUT = 60
REGISTER_TIMEOUT = 120  # the embedded worker's first inventory waits for libvirt
CALL_TIMEOUT = 30
READY_TIMEOUT = 900  # software emulation on a busy 2-core host
DESTROY_TIMEOUT = 300
STOP_TIMEOUT = 30


class Checks:
    """Counts named checks; a failed one is reported and the run goes on where it can."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            print(f"ok: {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAILED: {what}", flush=True)
        return ok


def generate_stubs(out_dir):
    """Python modules for labrack/v1/*.proto and reflection v1, generated into out_dir.

    reflection.proto is copied under a name of its own (reflection_v1.proto, same package
    and service) so that its module does not hide grpcio's own `grpc` package.
    """
    protos = sorted(p for p in os.listdir(os.path.join(SOURCE_DIR, "proto", "labrack", "v1"))
                    if p.endswith(".proto"))
    refl_dir = os.path.join(out_dir, "refl")
    os.makedirs(refl_dir)
    shutil.copy(os.path.join(GRPC_PROTO_DIR, "grpc", "reflection", "v1", "reflection.proto"),
                os.path.join(refl_dir, "reflection_v1.proto"))
    for include, files in ((os.path.join(SOURCE_DIR, "proto"), ["labrack/v1/" + p for p in protos]),
                           (refl_dir, ["reflection_v1.proto"])):
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", include,
                        "--python_out", out_dir, "--grpc_python_out", out_dir] + files,
                       check=True, timeout=120)
    sys.path.insert(0, out_dir)


def start_controller(tmp, host_id):
    """The controller process, started; await_controller says when it serves."""
    with open(os.path.join(tmp, "controller.log"), "wb") as log:
        return subprocess.Popen(
            [os.path.join(BINARY_DIR, "bin", "labrack-controller"), "--all-in-one",
             "--listen", "127.0.0.1:0", "--port-file", os.path.join(tmp, "controller.port"),
             "--state-dir", os.path.join(tmp, "state"), "--domain-type", "qemu",
             "--host-id", host_id,
             # guests boot under software emulation, maybe beside other tests' guests
             "--ready-timeout", str(READY_TIMEOUT - 60)],
            stdout=log, stderr=subprocess.STDOUT)


def await_controller(proc, tmp):
    """(port, admin token) once the controller serves."""
    port_file = os.path.join(tmp, "controller.port")
    deadline = time.monotonic() + START_TIMEOUT
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("labrack-controller did not start")
        time.sleep(0.1)
    with open(port_file) as f:
        port = int(f.read().strip())
    with open(os.path.join(tmp, "state", "admin.token")) as f:
        token = f.read().strip()
    return port, token


def stop_controller(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


def virsh(*args):
    return subprocess.run(["virsh", "-q"] + list(args), capture_output=True, text=True,
                          timeout=60).stdout


def remove_libvirt_leftovers(host_id, sandbox8):
    """Whatever a failed run left: the sandbox's guests and networks, the host's pool."""
    if sandbox8:
        prefix = f"lr-{sandbox8}-"
        for name in virsh("list", "--all", "--name").split():
            if name.startswith(prefix):
                virsh("destroy", name)
                virsh("undefine", name, "--nvram")
        for line in virsh("net-list", "--all", "--name").split():
            if line.startswith(prefix):
                virsh("net-destroy", line)
                virsh("net-undefine", line)
    pool = f"labrack-{host_id}"
    if pool in virsh("pool-list", "--all", "--name").split():
        virsh("pool-destroy", pool)
        virsh("pool-undefine", pool)


class Client:
    """LabController through the generated stubs, every call with a deadline and the token."""

    def __init__(self, port, token):
        import grpc
        from labrack.v1 import controller_pb2_grpc
        import reflection_v1_pb2_grpc
        self.grpc = grpc
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.metadata = [("authorization", "Bearer " + token)]
        self.stub = controller_pb2_grpc.LabControllerStub(self.channel)
        self.reflection = reflection_v1_pb2_grpc.ServerReflectionStub(self.channel)

    def call(self, method, request, timeout=CALL_TIMEOUT):
        return getattr(self.stub, method)(request, timeout=timeout, metadata=self.metadata)

    def error_of(self, method, request):
        """(code, details) of a call expected to fail; (OK, '') if it succeeded."""
        try:
            self.call(method, request)
            return self.grpc.StatusCode.OK, ""
        except self.grpc.RpcError as e:
            return e.code(), e.details()

    def import_image(self, manifest_yaml, files):
        """ImportImage: manifest_yaml first, then each file of `files` in chunks."""
        from labrack.v1 import worker_pb2

        def chunks():
            yield worker_pb2.EnsureImageChunk(manifest_yaml=manifest_yaml)
            for name in files:
                with open(os.path.join(IMAGE_DIR, name), "rb") as f:
                    while data := f.read(CHUNK_BYTES):
                        yield worker_pb2.EnsureImageChunk(
                            chunk=worker_pb2.ArtifactChunk(file=name, data=data))

        return self.stub.ImportImage(chunks(), timeout=600, metadata=self.metadata)

    def wait_phase(self, sandbox_id, phase, generation, after_seq, timeout):
        """The sandbox's first phase event in `phase` at `generation` (None: any) after
        `after_seq`; None when it fails, is destroyed first, or the deadline passes."""
        from labrack.v1 import controller_pb2, types_pb2
        request = controller_pb2.WatchEventsRequest(sandbox_id=sandbox_id, after_seq=after_seq)
        stream = self.stub.WatchEvents(request, timeout=timeout, metadata=self.metadata)
        try:
            for event in stream:
                if event.kind != controller_pb2.EVENT_KIND_SANDBOX_PHASE:
                    continue
                print(f"  event {event.seq}: {types_pb2.SandboxPhase.Name(event.phase)} "
                      f"generation {event.generation} nodes {event.nodes_ready}/{event.nodes_total}"
                      f" {event.message}", flush=True)
                if event.phase == phase and generation in (None, event.generation):
                    return event
                if event.phase in (types_pb2.SANDBOX_PHASE_FAILED,
                                   types_pb2.SANDBOX_PHASE_DESTROYED):
                    return None
        except self.grpc.RpcError as e:
            print(f"  watch ended: {e.code()} {e.details()}", flush=True)
        finally:
            stream.cancel()
        return None


def artifact_files(manifest_yaml):
    """The artifacts' file names, as manifest.yaml lists them ("file: NAME")."""
    return re.findall(r"^\s*-?\s*file:\s*['\"]?([^'\"\s]+)", manifest_yaml, re.MULTILINE)


def check_images(c, t):
    with open(os.path.join(IMAGE_DIR, "manifest.yaml")) as f:
        manifest_yaml = f.read()
    files = artifact_files(manifest_yaml)
    image = c.import_image(manifest_yaml, files)
    t.check(image.manifest.name == "tiny" and len(image.manifest.artifacts) == len(files) > 0,
            f"ImportImage of manifest_yaml and {len(files)} artifacts in chunks stores tiny")
    t.check(not image.already_present, "the first import stores something new")
    again = c.import_image(manifest_yaml, [])
    t.check(again.already_present, "ImportImage again with no bytes answers already_present")


def check_topologies(c, t):
    from labrack.v1 import controller_pb2
    codes = c.grpc.StatusCode
    with open(os.path.join(SOURCE_DIR, "topologies", "smoke.yaml")) as f:
        smoke = f.read()
    record = c.call("ApplyTopology", controller_pb2.ApplyTopologyRequest(
        topology_yaml=smoke, topology_file="smoke.yaml"))
    t.check(record.topology.name == "smoke" and record.version >= 1,
            f"ApplyTopology of smoke.yaml's text stores topology smoke v{record.version}")
    bad_line = smoke[:smoke.index("memory_mib")].count("\n") + 1
    code, details = c.error_of("ApplyTopology", controller_pb2.ApplyTopologyRequest(
        topology_yaml=smoke.replace("memory_mib", "memory_mb", 1), topology_file="bad.yaml"))
    t.check(code == codes.INVALID_ARGUMENT and f"bad.yaml:{bad_line}:" in details
            and "memory_mb" in details,
            f"a bad YAML is INVALID_ARGUMENT naming line and field: {details}")
    code, details = c.error_of("ApplyTopology", controller_pb2.ApplyTopologyRequest(
        topology=record.topology, topology_yaml=smoke))
    t.check(code == codes.INVALID_ARGUMENT and "topology_yaml" in details,
            f"topology and topology_yaml together are INVALID_ARGUMENT: {details}")


def wait_registered(c):
    from labrack.v1 import controller_pb2
    deadline = time.monotonic() + REGISTER_TIMEOUT
    while not any(h.health == controller_pb2.HOST_HEALTH_HEALTHY
                  for h in c.call("ListHosts", controller_pb2.ListHostsRequest()).hosts):
        if time.monotonic() > deadline:
            raise RuntimeError("the embedded worker did not register")
        time.sleep(0.5)


def check_sandbox_life(c, t, state):
    """Create, READY, reset, READY again, destroy, DESTROYED."""
    from labrack.v1 import controller_pb2, types_pb2
    phases = types_pb2
    wait_registered(c)
    created = c.call("CreateSandbox", controller_pb2.CreateSandboxRequest(
        topology="smoke", candidate="python-client",
        request_id="python-" + uuid.uuid4().hex[:12]))
    sandbox_id = state["sandbox_id"] = created.sandbox_id
    state["sandbox8"] = sandbox_id[:8]
    print(f"  sandbox {sandbox_id} on host {created.host_id}", flush=True)
    ready = c.wait_phase(sandbox_id, phases.SANDBOX_PHASE_READY, created.generation, 0,
                         READY_TIMEOUT)
    if not t.check(ready is not None, "WatchEvents sees the sandbox READY"):
        return
    t.check(ready.nodes_total == 3 and ready.nodes_ready == ready.nodes_total,
            f"the READY event carries nodes_ready == nodes_total > 0 "
            f"({ready.nodes_ready}/{ready.nodes_total})")

    reset = c.call("ResetSandbox", controller_pb2.ResetSandboxRequest(sandbox_id=sandbox_id))
    t.check(reset.generation == created.generation + 1, "ResetSandbox answers generation + 1")
    again = c.wait_phase(sandbox_id, phases.SANDBOX_PHASE_READY, reset.generation, ready.seq,
                         READY_TIMEOUT)
    t.check(again is not None and again.nodes_ready == again.nodes_total > 0,
            "the reset sandbox is READY again at the new generation")

    destroying = c.call("DestroySandbox",
                        controller_pb2.DestroySandboxRequest(sandbox_id=sandbox_id))
    t.check(destroying.phase == phases.SANDBOX_PHASE_DESTROYING,
            "DestroySandbox answers DESTROYING")
    gone = c.wait_phase(sandbox_id, phases.SANDBOX_PHASE_DESTROYED, None, 0, DESTROY_TIMEOUT)
    if t.check(gone is not None, "WatchEvents sees the sandbox DESTROYED"):
        state["sandbox_id"] = ""
        t.check(gone.nodes_ready == 0 and gone.nodes_total == 3,
                f"the DESTROYED event counts no ready node "
                f"({gone.nodes_ready}/{gone.nodes_total})")


def check_malformed_ids(c, t):
    from labrack.v1 import controller_pb2
    codes = c.grpc.StatusCode
    code, details = c.error_of("GetSandbox",
                               controller_pb2.GetSandboxRequest(sandbox_id="not/an id"))
    t.check(code == codes.INVALID_ARGUMENT and "sandbox_id" in details,
            f"GetSandbox of a malformed id is INVALID_ARGUMENT: {details}")
    stream = c.stub.WatchEvents(controller_pb2.WatchEventsRequest(sandbox_id="not/an id"),
                                timeout=CALL_TIMEOUT, metadata=c.metadata)
    try:
        list(stream)
        code = codes.OK
    except c.grpc.RpcError as e:
        code, details = e.code(), e.details()
    t.check(code == codes.INVALID_ARGUMENT,
            f"WatchEvents of a malformed id is INVALID_ARGUMENT: {details}")


def check_reflection(c, t):
    import reflection_v1_pb2
    from google.protobuf import descriptor_pb2
    asks = [reflection_v1_pb2.ServerReflectionRequest(list_services=""),
            reflection_v1_pb2.ServerReflectionRequest(
                file_containing_symbol="labrack.v1.LabController")]
    answers = list(c.reflection.ServerReflectionInfo(iter(asks), timeout=CALL_TIMEOUT,
                                                     metadata=c.metadata))
    services = [s.name for s in answers[0].list_services_response.service]
    t.check("labrack.v1.LabController" in services,
            f"reflection v1 lists LabController: {services}")
    files = [descriptor_pb2.FileDescriptorProto.FromString(b).name
             for b in answers[1].file_descriptor_response.file_descriptor_proto]
    t.check(files[:1] == ["labrack/v1/controller.proto"],
            f"reflection v1 answers the symbol's file: {files}")


def run_api_checks(c, t, state):
    check_images(c, t)
    check_topologies(c, t)
    check_sandbox_life(c, t, state)
    check_malformed_ids(c, t)
    check_reflection(c, t)


def destroy_if_left(c, sandbox_id):
    """A sandbox a failed run left behind, destroyed through the API while it still runs."""
    from labrack.v1 import controller_pb2, types_pb2
    try:
        c.call("DestroySandbox", controller_pb2.DestroySandboxRequest(sandbox_id=sandbox_id))
        deadline = time.monotonic() + DESTROY_TIMEOUT
        while time.monotonic() < deadline:
            s = c.call("GetSandbox", controller_pb2.GetSandboxRequest(sandbox_id=sandbox_id))
            if s.phase == types_pb2.SANDBOX_PHASE_DESTROYED:
                return
            time.sleep(1)
    except Exception as e:  # the virsh fallback removes what is left
        print(f"  cleanup: destroy of {sandbox_id} failed: {e}", flush=True)


def main():
    t = Checks()
    host_id = f"pyapi-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    tmp = tempfile.mkdtemp(prefix="labrack-pyapi-")
    os.chmod(tmp, 0o755)  # qemu reads the volumes below it
    # sandbox_id: a sandbox not yet destroyed; sandbox8: its libvirt names' part.
    proc, client, state = None, None, {"sandbox_id": "", "sandbox8": ""}
    try:
        if not os.path.exists(os.path.join(IMAGE_DIR, "manifest.yaml")):
            raise RuntimeError(f"no {IMAGE_DIR}/manifest.yaml: run images/build.sh tiny first")
        generate_stubs(os.path.join(tmp, "gen"))
        proc = start_controller(tmp, host_id)
        client = Client(*await_controller(proc, tmp))
        run_api_checks(client, t, state)
    except Exception:
        traceback.print_exc()
        t.check(False, "the run ended early (see the traceback above)")
    finally:
        if client is not None and state["sandbox_id"]:
            destroy_if_left(client, state["sandbox_id"])
        stop_controller(proc)
        if t.failed and os.path.exists(os.path.join(tmp, "controller.log")):
            with open(os.path.join(tmp, "controller.log"), errors="replace") as f:
                print("controller.log (last lines):\n" + "".join(f.readlines()[-30:]), flush=True)
        remove_libvirt_leftovers(host_id, state["sandbox8"])
        shutil.rmtree(tmp, ignore_errors=True)
    ours = [host_id] + ([f"lr-{state['sandbox8']}-"] if state["sandbox8"] else [])
    left = [line for cmd in (("list", "--all"), ("net-list", "--all"), ("pool-list", "--all"))
            for line in virsh(*cmd).splitlines() if any(o in line for o in ours)]
    t.check(not left and not os.path.exists(tmp), f"nothing of the run is left: {left}")
    print(f"{t.passed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
