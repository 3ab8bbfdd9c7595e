"""`pip install .` of the Python module knee (metadata in pyproject.toml), with Debian's packages
only and no network:

    /usr/bin/python3 -m pip install --no-build-isolation --prefix ~/.local .

CMake compiles the extension knee._knee (python/*.cpp and the C++ libraries it binds, as `make`
does, without tests, benchmarks or CUDA) for the interpreter that runs pip; setuptools adds the
pure-Python package python/knee/*.py. setuptools' own build folders and the CMake tree go to
build-py/ (KNEE_PY_BUILD_DIR to put them elsewhere), never build/, which is `make`'s; a second
install rebuilds only what changed.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.egg_info import egg_info

try:
    from setuptools.command.build import build
except ImportError:  # setuptools < 62.4
    from distutils.command.build import build

ROOT = pathlib.Path(__file__).resolve().parent
BUILD_DIR = pathlib.Path(os.environ.get("KNEE_PY_BUILD_DIR") or ROOT / "build-py").resolve()


def project_version():
    """The version of project(knee VERSION x.y.z) in CMakeLists.txt, the one __version__ reports."""
    m = re.search(r"project\(knee\s+VERSION\s+([0-9.]+)", (ROOT / "CMakeLists.txt").read_text())
    if not m:
        raise RuntimeError("setup.py: CMakeLists.txt: no project(knee VERSION ...)")
    return m.group(1)


class Build(build):
    def initialize_options(self):
        super().initialize_options()
        self.build_base = str(BUILD_DIR)


class EggInfo(egg_info):
    def initialize_options(self):
        super().initialize_options()
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        self.egg_base = str(BUILD_DIR)  # not knee.egg-info in the checkout


class CMakeBuildExt(build_ext):
    """Builds the one extension, knee._knee, with the project's CMake (target _knee only)."""

    def build_extension(self, ext):
        tree = BUILD_DIR / "cmake"
        configure = ["cmake", "-S", str(ROOT), "-B", str(tree), "-DCMAKE_BUILD_TYPE=Release",
                     "-DKNEE_BUILD_TESTS=OFF", "-DKNEE_BUILD_BENCH=OFF", "-DKNEE_CUDA=OFF",
                     "-DKNEE_PYTHON=ON", f"-DKNEE_PYTHON_EXECUTABLE={sys.executable}"]
        jobs = self.parallel or os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or os.cpu_count() or 1
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(tree), "--target", "_knee", "-j", str(jobs)], check=True)
        dest = pathlib.Path(self.get_ext_fullpath(ext.name))
        built = tree / "python" / "knee" / dest.name  # _knee + this interpreter's EXT_SUFFIX
        if not built.is_file():
            raise RuntimeError(f"setup.py: CMake built no {built} (the module is skipped without "
                               "pybind11-dev, or without python3-dev for this interpreter: see above)")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, dest)


setup(
    version=project_version(),
    ext_modules=[Extension("knee._knee", sources=[])],
    cmdclass={"build": Build, "egg_info": EggInfo, "build_ext": CMakeBuildExt},
)
