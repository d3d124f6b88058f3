"""Builds hydra_logger._native with the project's CMake (pip install ./python).

The extension is the C++ core and the pybind11 module, built by CMake in the
build's temporary directory (a few minutes on two cores). With
HYDRA_CMAKE_BUILD_DIR set, an already configured build tree of the project
(with -DHYDRA_BUILD_PYTHON=ON) is used instead: only its `hydra_python`
target is brought up to date.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent.parent  # the project's top level


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        given = os.environ.get("HYDRA_CMAKE_BUILD_DIR")
        build_dir = Path(given) if given else Path(self.build_temp).resolve() / "cmake"
        if not given:
            generator = ["-G", "Ninja"] if shutil.which("ninja") else []
            subprocess.run(
                ["cmake", "-S", str(ROOT), "-B", str(build_dir), *generator,
                 "-DCMAKE_BUILD_TYPE=Release", "-DHYDRA_BUILD_PYTHON=ON",
                 "-DHYDRA_BUILD_TESTS=OFF", "-DHYDRA_BUILD_TOOLS=OFF", "-DHYDRA_BUILD_BENCH=OFF",
                 "-DHYDRA_BUILD_EXAMPLES=OFF", "-DHYDRA_BUILD_WEB=OFF",
                 f"-DPython3_EXECUTABLE={sys.executable}"],
                check=True)
        jobs = str(os.cpu_count() or 1)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "hydra_python", "-j", jobs],
                       check=True)
        built = sorted((build_dir / "python" / "hydra_logger").glob("_native*.so"))
        if not built:
            raise RuntimeError(f"no _native*.so in {build_dir / 'python' / 'hydra_logger'}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[-1], target)


setup(ext_modules=[Extension("hydra_logger._native", sources=[])],
      cmdclass={"build_ext": CMakeBuild})
