"""The newcomer's main job runs end to end on the bundled data."""

from skgan_ad.__main__ import main


def test_demo_prints_a_table_for_every_detector(capsys):
    assert main(["demo", "--epochs", "1", "--min-steps", "0", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "bundled sample" in out
    table = out[out.index("detector"):].splitlines()
    assert [line.split()[0] for line in table[1:]] == ["EGBAD", "ALAD", "IsolationForest"]
    for line in table[1:]:
        auroc = float(line.split()[4])
        assert 0.0 <= auroc <= 1.0
