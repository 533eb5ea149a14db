"""Data loaders and the preprocessing the GAN anomaly-detection papers use.

The bundled ``data/kdd99_sample.csv.gz`` holds 20,000 rows of the KDD Cup 99 10% file
drawn at random (``DataFrame.sample(n=20000, random_state=0)``, original order kept),
about 100 KB, so that examples and the demo run offline.
"""

import warnings
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.utils import Bunch

__all__ = ["KDD99_COLUMNS", "KDD99_CATEGORIES", "load_kdd99", "kdd99_paper_split",
           "make_kdd99_preprocessor"]

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
    scaler : {None, "minmax", "standard"}, default=None
        Scaling of the 121 features, fitted on the training rows. ``None`` matches the
        official code, which in effect trains on unscaled features.

    Returns
    -------
    preprocessor : sklearn.pipeline.Pipeline or ColumnTransformer
    """
    categorical = list(KDD99_CATEGORIES)
    encoder = ColumnTransformer(
        [("onehot", OneHotEncoder(categories=[KDD99_CATEGORIES[c] for c in categorical],
                                  handle_unknown="ignore", sparse_output=False),
          categorical)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    if scaler is None:
        return encoder
    scalers = {"minmax": MinMaxScaler, "standard": StandardScaler}
    if scaler not in scalers:
        raise ValueError(f"scaler must be None, 'minmax' or 'standard'; got {scaler!r}")
    return make_pipeline(encoder, scalers[scaler]())
