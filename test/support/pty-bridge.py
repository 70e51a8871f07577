# Runs a command on a new pseudo-terminal and relays bytes: our stdin -> the terminal's input,
# the terminal's output -> our stdout. Exits with the command's exit status (128+N for signal N).
# Used by the REPL tests (test/support/pty.ts): Node has no pty of its own.
import fcntl
import os
import pty
import select
import struct
import sys
import termios

pid, master = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
# A terminal of 200 x 50: readline lays out its line by the width.
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))

stdin_open = True
while True:
    fds = [master] + ([0] if stdin_open else [])
    readable, _, _ = select.select(fds, [], [])
    if 0 in readable:
        data = os.read(0, 4096)
        if data:
            os.write(master, data)
        else:
            stdin_open = False
    if master in readable:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the command closed the terminal (it exited)
            data = b""
        if not data:
            break
        os.write(1, data)

_, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
