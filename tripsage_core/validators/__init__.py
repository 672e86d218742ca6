"""One validator per shared type (dates and time zones, coordinates), used by every
service so the same value is accepted or refused the same way everywhere."""
