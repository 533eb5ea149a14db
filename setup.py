from pathlib import Path

from setuptools import find_packages, setup

#: Optional engines for scaling out (skgan_ad.distributed); never imported by the core.
DISTRIBUTED = ["dask[array]>=2024.1", "distributed>=2024.1", "accelerate>=0.30"]

setup(
    name="skgan_ad",
    version="0.1.0",
    description="GAN-based anomaly detectors (ALAD, EGBAD, ...) as scikit-learn estimators",
    long_description=Path(__file__).with_name("README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    license="BSD-3-Clause",
    packages=find_packages(include=["skgan_ad", "skgan_ad.*"]),
    package_data={"skgan_ad": ["data/*.csv.gz"]},
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "scikit-learn>=1.6",
        "skorch>=1.1",
        "torch>=2.4",
        "joblib>=1.3",
        "safetensors>=0.4",
        "skops>=0.10",
        "scipy>=1.10",
        "pandas>=2.0",
        "tqdm>=4.60",
    ],
    extras_require={
        "test": ["pytest>=7", "pyod>=2.0", "hypothesis>=6", "docutils>=0.18.1", *DISTRIBUTED],
        "distributed": DISTRIBUTED,
        "bench": ["pyod>=2.0", "matplotlib>=3.7"],
        "docs": ["sphinx>=7", "numpydoc>=1.6", "sphinx-gallery>=0.15",
                 "pydata-sphinx-theme>=0.15", "myst-parser>=2", "matplotlib>=3.7"],
    },
    entry_points={"console_scripts": ["skgan-ad=skgan_ad.__main__:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
