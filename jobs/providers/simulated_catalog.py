"""Well-known tickers for the simulated market: name, typical price, annual volatility.

Prices are rough late-2025 levels, only to make the demo look plausible. Logos
are plain monograms shipped in assets/logos (no trademarked artwork).
"""

from __future__ import annotations

KNOWN: dict[str, tuple[str, float, float]] = {
    "GE": ("GE Aerospace", 300.0, 0.30),
    "AMZN": ("Amazon.com, Inc.", 230.0, 0.32),
    "NVDA": ("NVIDIA Corporation", 185.0, 0.50),
    "INTC": ("Intel Corporation", 38.0, 0.45),
    "AAPL": ("Apple Inc.", 275.0, 0.27),
    "NFLX": ("Netflix, Inc.", 110.0, 0.40),
    "MSFT": ("Microsoft Corporation", 490.0, 0.25),
    "GOOGL": ("Alphabet Inc. Class A", 300.0, 0.30),
    "GOOG": ("Alphabet Inc. Class C", 301.0, 0.30),
    "META": ("Meta Platforms, Inc.", 620.0, 0.38),
    "TSLA": ("Tesla, Inc.", 420.0, 0.60),
    "AMD": ("Advanced Micro Devices, Inc.", 220.0, 0.50),
    "IBM": ("International Business Machines Corporation", 300.0, 0.25),
    "ORCL": ("Oracle Corporation", 200.0, 0.40),
    "CSCO": ("Cisco Systems, Inc.", 75.0, 0.22),
    "JPM": ("JPMorgan Chase & Co.", 310.0, 0.24),
    "BAC": ("Bank of America Corporation", 52.0, 0.27),
    "WMT": ("Walmart Inc.", 105.0, 0.20),
    "KO": ("The Coca-Cola Company", 70.0, 0.15),
    "PEP": ("PepsiCo, Inc.", 150.0, 0.18),
    "DIS": ("The Walt Disney Company", 110.0, 0.28),
    "NKE": ("NIKE, Inc.", 65.0, 0.35),
    "XOM": ("Exxon Mobil Corporation", 115.0, 0.22),
    "CVX": ("Chevron Corporation", 150.0, 0.23),
    "PFE": ("Pfizer Inc.", 25.0, 0.25),
    "JNJ": ("Johnson & Johnson", 200.0, 0.17),
    "V": ("Visa Inc.", 340.0, 0.20),
    "MA": ("Mastercard Incorporated", 560.0, 0.21),
    "BRK.B": ("Berkshire Hathaway Inc. Class B", 500.0, 0.16),
    "COST": ("Costco Wholesale Corporation", 900.0, 0.22),
    "ADBE": ("Adobe Inc.", 330.0, 0.35),
    "CRM": ("Salesforce, Inc.", 240.0, 0.35),
    "QCOM": ("QUALCOMM Incorporated", 170.0, 0.35),
    "AVGO": ("Broadcom Inc.", 370.0, 0.45),
    "UBER": ("Uber Technologies, Inc.", 90.0, 0.40),
}


def logo_file(symbol: str) -> str:
    """The monogram file name under assets/logos for a symbol."""
    if symbol in KNOWN:
        return f"{symbol.replace('.', '-')}.svg"
    # Any other ticker shares the monogram of its first letter.
    return f"letter-{symbol[0]}.svg"


def logo_path(symbol: str) -> str:
    """The site-relative URL of a symbol's monogram, served by Dash from assets/."""
    return f"/assets/logos/{logo_file(symbol)}"
