"""OpenWeatherMap condition codes (https://openweathermap.org/weather-conditions) to ours."""

from __future__ import annotations

from tripsage.travel.v1 import travel_service_pb2 as pb


def condition_for_code(code: int) -> pb.WeatherCondition.ValueType:
    if 200 <= code < 300:
        return pb.WEATHER_CONDITION_THUNDERSTORM
    if 300 <= code < 400:
        return pb.WEATHER_CONDITION_DRIZZLE
    if 500 <= code < 600:
        return pb.WEATHER_CONDITION_RAIN
    if 600 <= code < 700:
        return pb.WEATHER_CONDITION_SNOW
    if 700 <= code < 800:
        return pb.WEATHER_CONDITION_FOG
    if code == 800:
        return pb.WEATHER_CONDITION_CLEAR
    if 800 < code < 900:
        return pb.WEATHER_CONDITION_CLOUDS
    return pb.WEATHER_CONDITION_UNSPECIFIED


# Which condition wins when a day has several: the most notable one.
SEVERITY = [
    pb.WEATHER_CONDITION_THUNDERSTORM,
    pb.WEATHER_CONDITION_SNOW,
    pb.WEATHER_CONDITION_RAIN,
    pb.WEATHER_CONDITION_DRIZZLE,
    pb.WEATHER_CONDITION_FOG,
    pb.WEATHER_CONDITION_CLOUDS,
    pb.WEATHER_CONDITION_CLEAR,
    pb.WEATHER_CONDITION_UNSPECIFIED,
]
