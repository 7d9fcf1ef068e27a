"""OBIS codes (IEC 62056-6-1): the value type and a catalogue of names."""
