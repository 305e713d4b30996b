"""What every package shares: settings, domain records, time and market hours. No I/O here."""
