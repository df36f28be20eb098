def pytest_terminal_summary(terminalreporter):
    from tests.load.test_soak import FIGURES

    if FIGURES:
        terminalreporter.write_line(f"soak: {FIGURES}")
