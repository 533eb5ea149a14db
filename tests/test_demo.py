"""The newcomer's main job runs end to end on the bundled data."""

import pytest

from skgan_ad.__main__ import DETECTOR_NAMES, main

import skgan_ad


def _table(out):
    lines = out[out.index("detector"):].splitlines()[1:]
    return {line.split()[0]: [float(value) for value in line.split()[1:]]
            for line in lines}


def test_demo_runs_every_detector_of_the_package_by_default():
    detectors = {name for name in skgan_ad.__all__ if isinstance(getattr(skgan_ad, name), type)
                 and issubclass(getattr(skgan_ad, name), skgan_ad.BaseGANDetector)
                 and name != "BaseGANDetector"}
    assert set(DETECTOR_NAMES) == detectors | {"IsolationForest"}


def test_demo_prints_a_table_of_the_chosen_detectors(capsys):
    # AnoGAN's latent search over every row would make this the suite's slowest test.
    chosen = ["FAnoGAN", "EGBAD", "ALAD", "GANomaly", "FenceGAN",
              "SimultaneousEncoderGAN", "IsolationForest"]
    assert main(["demo", "--epochs", "1", "--min-steps", "0", "--quiet",
                 "--detectors", *chosen]) == 0
    out = capsys.readouterr().out
    assert "bundled sample" in out
    table = _table(out)
    assert list(table) == chosen
    for precision, recall, f1, auroc, auprc, fit_s, score_s in table.values():
        assert 0.0 <= f1 <= 1.0 and 0.0 <= auroc <= 1.0 and fit_s > 0
    # Isolation Forest ranks the sample's attacks well; a broken protocol would not.
    assert table["IsolationForest"][3] > 0.9


def test_demo_refuses_an_unknown_detector(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--detectors", "PCA"])
    assert "invalid choice: 'PCA'" in capsys.readouterr().err
