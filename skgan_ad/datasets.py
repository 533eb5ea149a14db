"""Data loaders and the preprocessing the GAN anomaly-detection papers use.

The bundled ``data/kdd99_sample.csv.gz`` holds 20,000 rows of the KDD Cup 99 10% file
drawn at random (``DataFrame.sample(n=20000, random_state=0)``, original order kept),
about 100 KB, so that examples and the demo run offline.
"""

import gzip
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    StandardScaler,
)
from sklearn.utils import Bunch

__all__ = ["KDD99_CATEGORIES", "KDD99_COLUMNS", "kdd99_paper_split", "load_kdd99",
           "load_mnist", "make_kdd99_preprocessor", "one_class_split"]

KDD99_COLUMNS = (
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land",
    "wrong_fragment", "urgent", "hot", "num_failed_logins", "logged_in",
    "num_compromised", "root_shell", "su_attempted", "num_root", "num_file_creations",
    "num_shells", "num_access_files", "num_outbound_cmds", "is_host_login",
    "is_guest_login", "count", "srv_count", "serror_rate", "srv_serror_rate",
    "rerror_rate", "srv_rerror_rate", "same_srv_rate", "diff_srv_rate",
    "srv_diff_host_rate", "dst_host_count", "dst_host_srv_count",
    "dst_host_same_srv_rate", "dst_host_diff_srv_rate", "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate", "dst_host_serror_rate", "dst_host_srv_serror_rate",
    "dst_host_rerror_rate", "dst_host_srv_rerror_rate",
)

#: Values of the seven one-hot encoded columns in the 10% file, sorted as
#: ``pandas.get_dummies`` sorts them in the official ALAD/EGBAD code (121 features).
KDD99_CATEGORIES = {
    "protocol_type": ["icmp", "tcp", "udp"],
    "service": [
        "IRC", "X11", "Z39_50", "auth", "bgp", "courier", "csnet_ns", "ctf", "daytime",
        "discard", "domain", "domain_u", "echo", "eco_i", "ecr_i", "efs", "exec",
        "finger", "ftp", "ftp_data", "gopher", "hostnames", "http", "http_443",
        "imap4", "iso_tsap", "klogin", "kshell", "ldap", "link", "login", "mtp",
        "name", "netbios_dgm", "netbios_ns", "netbios_ssn", "netstat", "nnsp", "nntp",
        "ntp_u", "other", "pm_dump", "pop_2", "pop_3", "printer", "private", "red_i",
        "remote_job", "rje", "shell", "smtp", "sql_net", "ssh", "sunrpc", "supdup",
        "systat", "telnet", "tftp_u", "tim_i", "time", "urh_i", "urp_i", "uucp",
        "uucp_path", "vmnet", "whois"],
    "flag": ["OTH", "REJ", "RSTO", "RSTOS0", "RSTR", "S0", "S1", "S2", "S3", "SF", "SH"],
    "land": [0, 1],
    "logged_in": [0, 1],
    "is_host_login": [0],
    "is_guest_login": [0, 1],
}


def _read_kdd99_csv(source):
    frame = pd.read_csv(source, header=None, names=[*KDD99_COLUMNS, "label"])
    return frame.drop(columns="label"), frame["label"].to_numpy(dtype=str)


def _fetch_kdd99(download_if_missing):
    from sklearn.datasets import fetch_kddcup99

    bunch = fetch_kddcup99(percent10=True, as_frame=True,
                           download_if_missing=download_if_missing)
    data = bunch.frame.drop(columns="labels")
    data.columns = list(KDD99_COLUMNS)
    for column in ("protocol_type", "service", "flag"):
        data[column] = data[column].str.decode("ascii")
    numeric = [c for c in KDD99_COLUMNS if c not in ("protocol_type", "service", "flag")]
    data[numeric] = data[numeric].apply(pd.to_numeric)
    labels = bunch.frame["labels"].str.decode("ascii").to_numpy(dtype=str)
    return data, labels


def load_kdd99(path=None, *, sample=False, download_if_missing=True, return_X_y=False):
    """Load KDD Cup 99 (10% file) as the GAN anomaly-detection papers use it.

    Sources, in order: ``path`` when given; the bundled 20,000-row sample when
    ``sample=True``; otherwise :func:`sklearn.datasets.fetch_kddcup99` (cached in
    scikit-learn's data home, downloaded when missing), and the bundled sample with a
    warning when that fails (e.g. no internet).

    Labels follow the papers (Zenati et al., after DAGMM): "normal." traffic is the
    minority of this file and is the anomaly class (``target == 1``); every attack
    is the normal class (``target == 0``).

    Parameters
    ----------
    path : str or path-like, default=None
        The file ``kddcup.data_10_percent`` (plain or ``.gz``): CSV without header,
        41 features and the label.
    sample : bool, default=False
        Load the bundled sample.
    download_if_missing : bool, default=True
        Passed to :func:`sklearn.datasets.fetch_kddcup99`.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data`` (DataFrame, 41 named columns), ``target`` (ndarray of int, 1 =
        anomaly), ``labels`` (the original label strings) and ``source``.
    """
    if path is not None:
        data, labels = _read_kdd99_csv(path)
        source = str(path)
    elif not sample:
        try:
            data, labels = _fetch_kdd99(download_if_missing)
            source = "sklearn.datasets.fetch_kddcup99"
        except (OSError, ValueError) as exc:
            warnings.warn(f"KDD99 could not be fetched ({exc}); using the bundled "
                          "20,000-row sample instead.", stacklevel=2)
            sample = True
    if sample and path is None:
        sample_file = resources.files("skgan_ad").joinpath("data/kdd99_sample.csv.gz")
        with resources.as_file(sample_file) as sample_path:
            data, labels = _read_kdd99_csv(sample_path)
        source = "bundled sample"
    target = (labels == "normal.").astype(int)
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, labels=labels, source=source)


def kdd99_paper_split(data, target, random_state=42):
    """Split KDD99 as the official ALAD/EGBAD code does.

    Half of the rows, drawn with ``DataFrame.sample(frac=0.5, random_state=...)``, form
    the training half, of which only the normal rows (``target == 0``, the attacks)
    are kept; the other half is the test set (about 20% anomalies).

    Parameters
    ----------
    data : DataFrame
        The 41 KDD99 columns, as returned by :func:`load_kdd99`.
    target : array-like of int
        1 for anomalies.
    random_state : int, default=42
        Seed of the split (42 in the official code).

    Returns
    -------
    X_train, X_test, y_test : DataFrame, DataFrame, ndarray
    """
    target = pd.Series(np.asarray(target), index=data.index)
    train = data.sample(frac=0.5, random_state=random_state)
    test = data.drop(index=train.index)
    X_train = train[target[train.index].to_numpy() == 0]
    return X_train, test, target[test.index].to_numpy()


def make_kdd99_preprocessor(scaler=None):
    """One-hot encode KDD99's categorical columns into the papers' 121 features.

    The columns ``protocol_type``, ``service``, ``flag``, ``land``, ``logged_in``,
    ``is_host_login`` and ``is_guest_login`` are one-hot encoded with the categories of
    the full 10% file (:data:`KDD99_CATEGORIES`; unseen values encode as all zeros);
    the 34 other columns pass through. Use it as the first step of a Pipeline.

    Parameters
    ----------
    scaler : {None, "log", "minmax", "standard"}, default=None
        Scaling of the features. ``None`` matches the official code, which in effect
        trains on unscaled features. ``"log"`` maps the 34 numeric columns (counts,
        byte totals and rates, all non-negative) through ``log1p`` and leaves the
        one-hot columns as they are: byte totals up to about 1e9 shrink to at most 21
        while their order of magnitude, which tells most normal traffic from the
        attacks, is kept. ``"minmax"`` and ``"standard"`` scale all 121 features with
        statistics of the training rows.

    Returns
    -------
    preprocessor : sklearn.pipeline.Pipeline or ColumnTransformer
    """
    scalers = {"minmax": MinMaxScaler, "standard": StandardScaler}
    if scaler is not None and scaler != "log" and scaler not in scalers:
        raise ValueError(
            f"scaler must be None, 'log', 'minmax' or 'standard'; got {scaler!r}")
    categorical = list(KDD99_CATEGORIES)
    encoder = ColumnTransformer(
        [("onehot", OneHotEncoder(categories=[KDD99_CATEGORIES[c] for c in categorical],
                                  handle_unknown="ignore", sparse_output=False),
          categorical)],
        remainder=(FunctionTransformer(_log1p_counts, feature_names_out="one-to-one")
                   if scaler == "log" else "passthrough"),
        verbose_feature_names_out=False,
    )
    if scaler in scalers:
        return make_pipeline(encoder, scalers[scaler]())
    return encoder


def _log1p_counts(X):
    """``log1p`` of KDD99's numeric columns, which are counts, totals and rates."""
    X = np.asarray(X, dtype=np.float64)
    if (X < 0).any():
        raise ValueError("make_kdd99_preprocessor(scaler='log') needs non-negative "
                         "numeric columns, as KDD99's are; got negative values.")
    return np.log1p(X)


#: The IDX files of the MNIST test set, as published by LeCun et al.
MNIST_FILES = {"test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
               "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")}


def _read_idx(path):
    """Read an IDX file (gzipped or not): the format of the original MNIST files."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as file:
        content = file.read()
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    n_dims = content[3]
    shape = tuple(int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big")
                  for i in range(n_dims))
    data = np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * n_dims)
    if data.size != np.prod(shape):
        raise ValueError(f"{path} is truncated: {data.size} values for shape {shape}")
    return data.reshape(shape)


def load_mnist(path=None, *, subset="test", download_if_missing=True, return_X_y=False):
    """Load MNIST digits as images of shape ``(n, 1, 28, 28)`` scaled to [0, 1].

    Parameters
    ----------
    path : str or path-like or None, default=None
        Folder holding the original IDX files (``t10k-images-idx3-ubyte.gz`` and
        ``t10k-labels-idx1-ubyte.gz`` for ``subset="test"``, ``train-*`` for
        ``"train"``; gzipped or not). ``None`` fetches MNIST from OpenML with
        :func:`sklearn.datasets.fetch_openml` (cached in scikit-learn's data home),
        whose first 60,000 images are the training set and the last 10,000 the test set.
    subset : {"test", "train"}, default="test"
        Which of the two official sets.
    download_if_missing : bool, default=True
        Passed to :func:`sklearn.datasets.fetch_openml` when ``path`` is ``None``.
    return_X_y : bool, default=False
        Return ``(images, digits)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``images`` (float32, ``(n, 1, 28, 28)``), ``target`` (the digits, int) and
        ``source``.
    """
    if subset not in MNIST_FILES:
        raise ValueError(f"subset must be 'test' or 'train', not {subset!r}")
    if path is not None:
        folder = Path(path)
        found = []
        for name in MNIST_FILES[subset]:
            candidates = [folder / name, folder / name.removesuffix(".gz")]
            existing = [candidate for candidate in candidates if candidate.exists()]
            if not existing:
                raise FileNotFoundError(f"{folder} has no {name} (MNIST {subset} set)")
            found.append(existing[0])
        images, digits = (_read_idx(file) for file in found)
        source = str(folder)
    else:
        from sklearn.datasets import fetch_openml

        bunch = fetch_openml("mnist_784", version=1, as_frame=False, parser="liac-arff",
                             download_if_missing=download_if_missing)
        rows = slice(60000, None) if subset == "test" else slice(None, 60000)
        images = bunch.data[rows].reshape(-1, 28, 28).astype(np.uint8)
        digits = bunch.target[rows].astype(int)
        source = "sklearn.datasets.fetch_openml('mnist_784')"
    images = (images.astype(np.float32) / 255.0)[:, None]
    digits = np.asarray(digits, dtype=int)
    if return_X_y:
        return images, digits
    return Bunch(images=images, target=digits, source=source)


def one_class_split(X, classes, label, *, protocol="normal", train_size=0.8,
                    random_state=0):
    """Split a labelled image set into the one-class anomaly-detection protocols.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        The images (or any rows).
    classes : ndarray of shape (n_samples,)
        Class of each row (the digit, for MNIST).
    label : int
        The class the protocol is about.
    protocol : {"normal", "anomalous"}, default="normal"
        ``"normal"``: ``label`` is the normal class and every other class anomalous
        (the official code of: ALAD). ``"anomalous"``: ``label`` is the anomaly and
        every other class normal (the official code of: EGBAD, Fence GAN, GANomaly).
    train_size : float, default=0.8
        Share of the normal rows used for training; the rest of them and every
        anomalous row form the test set.
    random_state : int, RandomState instance or None, default=0
        Seeds the choice of the training rows.

    Returns
    -------
    X_train : ndarray
        Normal rows only.
    X_test : ndarray
    y_test : ndarray of int
        1 for an anomaly, 0 for a normal row.
    """
    from sklearn.utils import check_random_state

    if protocol not in ("normal", "anomalous"):
        raise ValueError(f"protocol must be 'normal' or 'anomalous', not {protocol!r}")
    classes = np.asarray(classes)
    if label not in classes:
        raise ValueError(f"class {label!r} does not occur in the labels")
    anomalous = classes != label if protocol == "normal" else classes == label
    normal_rows = np.flatnonzero(~anomalous)
    rng = check_random_state(random_state)
    train = np.sort(rng.choice(normal_rows, int(round(train_size * len(normal_rows))),
                               replace=False))
    test = np.setdiff1d(np.arange(len(classes)), train)
    return X[train], X[test], anomalous[test].astype(int)
