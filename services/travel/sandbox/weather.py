"""Sandbox weather: a documented seasonal model, not a forecast.

For latitude φ (degrees) and day of year d:
- mean temperature  T = 28 - 0.45 * max(0, |φ| - 15) + 0.16 * |φ| * cos(2π (d - peak) / 365),
  with peak = day 200 in the north and day 18 in the south;
- daily range 9 °C around T, plus a seeded ±2.5 °C per place and day;
- chance of precipitation 0.25 + 0.15 * cos(2π (d - wet) / 365) ± 0.15, where the wet
  season is winter outside the tropics and summer inside them; above 0.5 it rains
  (20 mm per unit over 0.5, to 0.1 mm), as snow when the high stays under 2 °C, as a
  thunderstorm when the chance is over 0.75 and the high over 24 °C;
- the condition follows the amount, so a wet day always has some: under 0.5 mm
  light drizzle, under 2.5 mm light rain, under 7.6 mm moderate rain, else heavy
  rain; a dry day is overcast above a 0.38 chance, broken clouds above 0.22, else
  clear;
- sunrise and sunset from the solar declination and the hour angle at the place.
The forecast reaches 14 days ahead; days beyond that are left out.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from services.travel.ports import WeatherQuery
from services.travel.sandbox.seeded import NAME, rng
from services.travel.weather_codes import condition_for_code
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.grpc_kit.timestamps import to_timestamp

HORIZON_DAYS = 14


def mean_temperature(latitude: float, day: date) -> float:
    doy = day.timetuple().tm_yday
    peak = 200 if latitude >= 0 else 18
    base = 28 - 0.45 * max(0.0, abs(latitude) - 15)
    return base + 0.16 * abs(latitude) * math.cos(2 * math.pi * (doy - peak) / 365)


def precipitation_chance(latitude: float, day: date, noise: float) -> float:
    doy = day.timetuple().tm_yday
    tropical = abs(latitude) < 23.5
    north = latitude >= 0
    wet = (196 if north else 15) if tropical else (15 if north else 196)
    chance = 0.25 + 0.15 * math.cos(2 * math.pi * (doy - wet) / 365) + noise
    return min(0.95, max(0.02, chance))


def precipitation_mm(chance: float) -> float:
    return round(max(0.0, chance - 0.5) * 20, 1)


def weather_code(chance: float, high: float, millimetres: float) -> tuple[int, str]:
    """The OpenWeatherMap code and description of a day, consistent with its amount."""
    if millimetres > 0:
        if high < 2:
            return (600, "light snow") if millimetres < 2.5 else (601, "snow")
        if chance > 0.75 and high > 24:
            return 211, "thunderstorm"
        if millimetres < 0.5:
            return 300, "light drizzle"
        if millimetres < 2.5:
            return 500, "light rain"
        if millimetres < 7.6:
            return 501, "moderate rain"
        return 502, "heavy intensity rain"
    if chance > 0.38:
        return 804, "overcast clouds"
    if chance > 0.22:
        return 803, "broken clouds"
    return 800, "clear sky"


def sun_times(latitude: float, longitude: float, day: date) -> tuple[datetime, datetime]:
    doy = day.timetuple().tm_yday
    declination = math.radians(-23.44) * math.cos(2 * math.pi * (doy + 10) / 365)
    cos_hour = -math.tan(math.radians(latitude)) * math.tan(declination)
    hour_angle = math.degrees(math.acos(min(1.0, max(-1.0, cos_hour))))
    noon = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12 - longitude / 15)
    half_day = timedelta(hours=hour_angle / 15)
    return noon - half_day, noon + half_day


def daily(query: WeatherQuery, day: date) -> pb.DailyForecast:
    lat, lng = query.point.latitude, query.point.longitude
    draw = rng("weather", round(lat, 2), round(lng, 2), day.isoformat())
    mean = mean_temperature(lat, day) + draw.uniform(-2.5, 2.5)
    chance = precipitation_chance(lat, day, draw.uniform(-0.15, 0.15))
    high, low = mean + 4.5, mean - 4.5
    millimetres = precipitation_mm(chance)
    code, description = weather_code(chance, high, millimetres)
    sunrise, sunset = sun_times(lat, lng, day)
    return pb.DailyForecast(
        date=day.isoformat(),
        min_temperature_celsius=round(low, 1),
        max_temperature_celsius=round(high, 1),
        precipitation_probability=round(chance, 2),
        precipitation_mm=millimetres,
        condition=condition_for_code(code),
        description=description,
        sunrise_time=to_timestamp(sunrise),
        sunset_time=to_timestamp(sunset),
    )


class SandboxWeather:
    """Implements WeatherProvider."""

    name = NAME

    async def weather(self, query: WeatherQuery, key: str | None) -> pb.GetWeatherResponse:
        now = datetime.now(UTC)
        today = now.date()
        last = today + timedelta(days=HORIZON_DAYS - 1)
        end = min(query.end, last) if query.end else last
        days = []
        day = max(query.start, today)
        while day <= end:
            days.append(daily(query, day))
            day += timedelta(days=1)
        today_forecast = daily(query, today)
        # Solar time: warmest mid-afternoon, coolest before dawn.
        solar_hour = (now.hour + now.minute / 60 + query.point.longitude / 15) % 24
        swing = math.sin(math.pi * (solar_hour - 9) / 12)
        low, high = today_forecast.min_temperature_celsius, today_forecast.max_temperature_celsius
        temperature = round((low + high) / 2 + (high - low) / 2 * swing, 1)
        current = pb.CurrentWeather(
            observe_time=to_timestamp(now.replace(second=0, microsecond=0)),
            temperature_celsius=temperature,
            feels_like_celsius=round(temperature - 1.0, 1),
            humidity_percent=int(45 + 45 * today_forecast.precipitation_probability),
            wind_speed_mps=round(rng("wind", query.point, today).uniform(0.5, 8.0), 1),
            condition=today_forecast.condition,
            description=today_forecast.description,
        )
        reply = pb.GetWeatherResponse(place=query.place, current=current, daily=days)
        reply.location.latitude = query.point.latitude
        reply.location.longitude = query.point.longitude
        return reply
