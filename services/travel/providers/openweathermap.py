"""OpenWeatherMap: current weather (/data/2.5/weather) and the 5-day/3-hour forecast
(/data/2.5/forecast), metric units, key in `appid`. The 3-hour steps are folded into
days in the place's local time (the `city.timezone` offset the forecast reports).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.travel.ports import WeatherQuery
from services.travel.providers.http import ProviderHttp
from services.travel.weather_codes import SEVERITY, condition_for_code
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.grpc_kit.timestamps import to_timestamp

NAME = "openweathermap"


class OpenWeatherMapProvider:
    """Implements WeatherProvider."""

    name = NAME

    def __init__(self, http: ProviderHttp) -> None:
        self.http = http

    async def weather(self, query: WeatherQuery, key: str | None) -> pb.GetWeatherResponse:
        params = {
            "lat": f"{query.point.latitude:.4f}",
            "lon": f"{query.point.longitude:.4f}",
            "units": "metric",
            "appid": key or "",
        }
        current = await self.http.request(
            "GET", "/data/2.5/weather", operation="weather", idempotent=True, params=params
        )
        forecast = await self.http.request(
            "GET", "/data/2.5/forecast", operation="forecast", idempotent=True, params=params
        )
        reply = pb.GetWeatherResponse(
            place=current.get("name") or query.place,
            current=current_from_owm(current),
            daily=[d for d in daily_from_owm(forecast) if _within(d.date, query)],
        )
        reply.location.latitude = query.point.latitude
        reply.location.longitude = query.point.longitude
        return reply


def _within(day: str, query: WeatherQuery) -> bool:
    when = date.fromisoformat(day)
    return when >= query.start and (query.end is None or when <= query.end)


def _first_weather(raw: dict[str, Any]) -> dict[str, Any]:
    weather = raw.get("weather") or [{}]
    return weather[0] if isinstance(weather[0], dict) else {}


def current_from_owm(raw: dict[str, Any]) -> pb.CurrentWeather:
    main = raw.get("main") or {}
    weather = _first_weather(raw)
    return pb.CurrentWeather(
        observe_time=to_timestamp(datetime.fromtimestamp(int(raw.get("dt", 0)), UTC)),
        temperature_celsius=float(main.get("temp", 0)),
        feels_like_celsius=float(main.get("feels_like", main.get("temp", 0))),
        humidity_percent=int(main.get("humidity", 0)),
        wind_speed_mps=float((raw.get("wind") or {}).get("speed", 0)),
        condition=condition_for_code(int(weather.get("id", 0))),
        description=str(weather.get("description", "")),
    )


def daily_from_owm(raw: dict[str, Any]) -> list[pb.DailyForecast]:
    city = raw.get("city") or {}
    offset = timedelta(seconds=int(city.get("timezone", 0)))
    steps: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for step in raw.get("list", []):
        local_day = (datetime.fromtimestamp(int(step["dt"]), UTC) + offset).date().isoformat()
        steps[local_day].append(step)
    days = []
    for day, items in sorted(steps.items()):
        conditions = [
            (condition_for_code(int(_first_weather(i).get("id", 0))), _first_weather(i))
            for i in items
        ]
        condition, weather = min(conditions, key=lambda c: SEVERITY.index(c[0]))
        forecast = pb.DailyForecast(
            date=day,
            min_temperature_celsius=min(
                float((i.get("main") or {}).get("temp_min", 0)) for i in items
            ),
            max_temperature_celsius=max(
                float((i.get("main") or {}).get("temp_max", 0)) for i in items
            ),
            precipitation_probability=max(float(i.get("pop", 0)) for i in items),
            precipitation_mm=round(
                sum(
                    float((i.get("rain") or {}).get("3h", 0))
                    + float((i.get("snow") or {}).get("3h", 0))
                    for i in items
                ),
                1,
            ),
            condition=condition,
            description=str(weather.get("description", "")),
        )
        if city.get("sunrise") and city.get("sunset"):
            # The forecast reports today's sun times; later days differ by minutes.
            shift = (
                date.fromisoformat(day)
                - (datetime.fromtimestamp(int(city["sunrise"]), UTC) + offset).date()
            )
            forecast.sunrise_time.CopyFrom(
                to_timestamp(datetime.fromtimestamp(int(city["sunrise"]), UTC) + shift)
            )
            forecast.sunset_time.CopyFrom(
                to_timestamp(datetime.fromtimestamp(int(city["sunset"]), UTC) + shift)
            )
        days.append(forecast)
    return days
