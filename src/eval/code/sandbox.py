# The program runner inside Pyodide, shared by the Node sandbox (node/python-sandbox.ts) and the browser
# worker (workers/python.worker.ts). The host runs this file once per interpreter, then calls
# run_program(source) per program; it returns JSON: {"passed": bool, "error": str | null}.
#
# What a program gets: the standard library on Pyodide's in-memory file system, no JavaScript bridge
# (`js`, `pyodide_js` and Pyodide's own modules cannot be imported), empty stdin, discarded output and a
# fresh __main__. Afterwards the interpreter is put back as it was: sys.modules, the attributes of every
# module loaded before (builtins, math, sys, ...), sys.path, sys.meta_path, the recursion limit. So one
# program's monkey-patching cannot change the next one's result. The time limit is the host's (it ends
# the interpreter). Like human-eval's reliability_guard this contains honest mistakes; what contains a
# hostile program is the host's process boundary (node/python-sandbox.ts, or the browser's Web Worker).
import builtins
import io
import json
import sys
import traceback

# Bound now: a program may replace any module attribute, and this code must still work while restoring.
_dumps = json.dumps
_extract_tb = traceback.extract_tb
_StringIO = io.StringIO
_getrecursionlimit = sys.getrecursionlimit
_setrecursionlimit = sys.setrecursionlimit
_modules = sys.modules
_meta_path = sys.meta_path
_path = sys.path
_compile, _exec, _dict, _list, _type, _str, _len, _BaseException = compile, exec, dict, list, type, str, len, BaseException

_BLOCKED = ("js", "pyodide", "pyodide_js", "_pyodide", "_pyodide_core", "micropip")


def _blocked(name):
    return name.partition(".")[0] in _BLOCKED


class _NoBridge:
    """First on sys.meta_path: the modules that reach JavaScript are not importable by programs."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if _blocked(name):
            raise ModuleNotFoundError(f"No module named {name!r} (not available in the sandbox)", name=name)
        return None


class _Discard(io.TextIOBase):
    def writable(self):
        return True

    def write(self, s):
        return _len(s)


def _describe(e):
    lines = [f.lineno for f in _extract_tb(e.__traceback__) if f.filename == "<program>"]
    msg = _str(e)
    text = _type(e).__name__ + (": " + msg[:500] if msg else "")
    return text + (f" (line {lines[-1]})" if lines else "")


for _name in [m for m in sys.modules if _blocked(m)]:
    del sys.modules[_name]
sys.meta_path.insert(0, _NoBridge)

# Modules HumanEval solutions and tests use, loaded once so that restoring covers them.
import collections, functools, hashlib, heapq, itertools, math, random, re, string, typing  # noqa: E401,F401


def _restore(saved_modules, saved_dicts):
    _modules.clear()
    _modules.update(saved_modules)
    for module, saved in saved_dicts:
        d = module.__dict__
        for k in [k for k in d if k not in saved]:
            del d[k]
        for k, v in saved.items():
            if d.get(k, d) is not v:
                d[k] = v


def run_program(source):
    saved_modules = _dict(_modules)
    saved_dicts = [(m, _dict(m.__dict__)) for m in saved_modules.values() if _type(getattr(m, "__dict__", None)) is _dict]
    saved_meta_path = _list(_meta_path)
    saved_path = _list(_path)
    saved_limit = _getrecursionlimit()
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    try:
        sys.stdin, sys.stdout, sys.stderr = _StringIO(""), _Discard(), _Discard()
        _exec(_compile(source, "<program>", "exec"), namespace)
        result = {"passed": True, "error": None}
    except _BaseException as e:  # SystemExit and KeyboardInterrupt fail the program too, as in human-eval
        result = {"passed": False, "error": _describe(e)}
    finally:
        namespace.clear()
        _restore(saved_modules, saved_dicts)  # sys.stdin/stdout/stderr come back with sys's attributes
        _meta_path[:] = saved_meta_path
        _path[:] = saved_path
        _setrecursionlimit(saved_limit)
    return _dumps(result)
