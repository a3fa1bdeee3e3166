"""The config file: what is wrong is named, with the file and the field."""

import pytest

from backorder.config import parse_config
from backorder.errors import ConfigError


def test_an_unknown_time_zone_is_refused_naming_the_field():
    with pytest.raises(ConfigError, match=r"x\.toml: stores\.s\.settings\.timezone: .*Mars/Base"):
        parse_config({"stores": {"s": {"settings": {"timezone": "Mars/Base"}}}}, "x.toml")


def test_a_real_time_zone_is_taken():
    config = parse_config({"stores": {"s": {"settings": {"timezone": "Europe/Amsterdam"}}}})
    assert config.store("s").settings.timezone == "Europe/Amsterdam"
