"""Haven installs as a web app on a phone's home screen: a valid manifest, linked, with icons."""

import json
import struct

from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from haven.testing.people import HavenTestCase


def png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as image:
        header = image.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    assert header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


class ManifestTests(HavenTestCase):
    def manifest(self, **headers) -> dict:
        response = self.client.get(reverse("front:manifest"), headers=headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/manifest+json")
        return json.loads(response.content)

    def test_the_manifest_is_valid_json_for_a_standalone_app(self):
        manifest = self.manifest()
        self.assertEqual(manifest["name"], settings.SITE_NAME)
        self.assertTrue(manifest["short_name"])
        self.assertEqual(manifest["start_url"], "/")
        self.assertEqual(manifest["scope"], "/")
        self.assertEqual(manifest["display"], "standalone")
        self.assertRegex(manifest["theme_color"], r"^#[0-9a-f]{6}$")

    def test_the_icons_exist_as_png_files_of_the_sizes_they_claim(self):
        icons = self.manifest()["icons"]
        sizes = {icon["sizes"] for icon in icons if icon.get("purpose", "any") == "any"}
        self.assertEqual(sizes, {"192x192", "512x512"})
        for icon in icons:
            with self.subTest(icon=icon["src"]):
                self.assertEqual(icon["type"], "image/png")
                self.assertTrue(icon["src"].startswith(settings.STATIC_URL))
                path = finders.find(icon["src"].removeprefix(settings.STATIC_URL))
                self.assertIsNotNone(path, f"{icon['src']} is not a static file")
                width, height = png_size(path)
                self.assertEqual(f"{width}x{height}", icon["sizes"])
                served = self.client.get(icon["src"])
                self.assertEqual(served.status_code, 200)
                self.assertEqual(served["Content-Type"], "image/png")
                self.assertTrue(b"".join(served.streaming_content))

    def test_the_description_follows_the_visitors_language(self):
        english = self.manifest()["description"]
        spanish = self.manifest(accept_language="es")
        italian = self.manifest(accept_language="it")
        self.assertEqual(spanish["lang"], "es")
        self.assertEqual(italian["lang"], "it")
        self.assertEqual(
            spanish["description"],
            "Su plan de salud, su equipo de atención y su privacidad en un solo lugar.",
        )
        self.assertNotEqual(italian["description"], english)

    def test_every_page_links_the_manifest_and_a_home_screen_icon(self):
        for url in (reverse("front:home"), reverse("accounts:login")):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertContains(
                    response, f'<link rel="manifest" href="{reverse("front:manifest")}">'
                )
                self.assertContains(response, 'rel="apple-touch-icon"')
                self.assertContains(response, '<meta name="theme-color"')
