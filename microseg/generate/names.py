"""Static reference lists: first/last names, cities, email domains, placeholders.

Names are a German-leaning international mix with Zipf-like popularity so that
common names collide realistically while most persons still have a distinct
(first, last) pair. ``ascii_name`` gives the transliteration used in emails.
"""

from __future__ import annotations

from functools import cache

import numpy as np

FIRST_NAMES_F = """
Anna Maria Laura Julia Lena Sarah Lisa Katharina Sophie Hannah Lea Leonie Johanna
Emma Mia Marie Lara Lina Clara Charlotte Emilia Amelie Luisa Nina Jana Carolin
Christina Sabine Petra Monika Andrea Claudia Susanne Stefanie Nicole Melanie Sandra
Anja Kerstin Birgit Ute Heike Silke Tanja Katrin Martina Gabriele Ursula Renate
Karin Elke Barbara Brigitte Ingrid Helga Gisela Erika Christa Doris Angelika Jutta
Manuela Simone Daniela Alexandra Franziska Theresa Vanessa Jennifer Jessica Michelle
Jasmin Nadine Miriam Verena Judith Carina Svenja Annika Antonia Paula Greta Ida Frieda
Mathilda Ella Marlene Helena Jule Pia Maja Alina Celina Selina Elif Ayse Zeynep Fatma
Emine Merve Aleksandra Katarzyna Agnieszka Magdalena Natalia Olga Irina Svetlana Elena
Anastasia Giulia Francesca Chiara Valentina Alessia Sofia Lucia Carmen Isabel Ines
Ana Marta Joanna Emily Olivia Chloe Grace Lucy Ava Zoe Amira Yasmin Leila Noor Sara
Mila Victoria Nele Finja Merle Tabea Rebecca Ronja Carla Elisa Luise Magda Hilde Irmgard
Rosemarie Waltraud Edith Dagmar Beate Cornelia Regina Marion Iris Antje Bettina Britta
Dana Yvonne Sonja Diana Anke Astrid Gudrun Wiebke Frauke Imke Insa Malin Svea Jördis
""".split()

FIRST_NAMES_M = """
Thomas Michael Andreas Stefan Christian Markus Frank Peter Klaus Wolfgang Jürgen
Uwe Martin Matthias Alexander Daniel Sebastian Tobias Jan Florian David Lukas Jonas
Leon Felix Maximilian Paul Ben Finn Noah Elias Luca Luis Julian Tim Niklas Moritz
Philipp Simon Fabian Dominik Patrick Marcel Dennis Sven Kai Dirk Jens Holger Ralf
Bernd Rainer Manfred Dieter Hans Günter Horst Helmut Werner Gerhard Karl Heinz
Walter Kurt Rolf Norbert Harald Joachim Volker Torsten Carsten Oliver Timo Björn
Lars Nils Henrik Hendrik Ole Malte Till Johannes Jakob Anton Emil Theo Oskar Henry
Mats Mattis Linus Fynn Jannik Lennard Marvin Kevin Pascal Robin Benjamin Erik Konstantin
Vincent Valentin Adrian Hannes Rene Sascha Mario Marco Enrico Giuseppe Francesco
Alessandro Matteo Lorenzo Antonio Carlos Miguel Pedro Jose Juan Diego Mehmet Mustafa
Ahmet Ali Hasan Hüseyin Murat Emre Can Burak Yusuf Ibrahim Omar Karim Tarek Piotr
Tomasz Krzysztof Pawel Marek Jakub Dmitri Sergei Ivan Nikolai Alexei James John
William George Oliver Harry Jack Samuel Liam Ethan Arne Hauke Jörg Gregor Hubert
Ludwig Xaver Korbinian Quirin Sepp Franz Alois Leopold Friedrich Wilhelm Otto Hermann
Ernst Albert Erwin Willi Georg Bruno Arnold Lothar Siegfried Detlef Reinhard Eckhard
""".split()

LAST_NAMES = """
Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer
Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann
Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler
Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn
Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann
Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt
Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich
Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer
Lindner Ernst Hübner Kramer Franz Jansen Peter Hesse Paul Götz Thiel Hansen Wenzel Brinkmann
Wittmann Marx Ott Kuhlmann Böttcher Sander Barth Wegner Bock Busse Beyer Fritz Schröter
Lorenzen Voß Kolb Bauer Nowak Kowalski Wiśniewski Lewandowski Kaminski Zielinski Yilmaz
Kaya Demir Şahin Çelik Yıldız Öztürk Aydın Arslan Doğan Rossi Russo Ferrari Esposito
Bianchi Romano Colombo Ricci Marino Greco Garcia Fernandez Lopez Martinez Gonzalez
Rodriguez Sanchez Perez Silva Santos Pereira Costa Oliveira Smith Jones Williams Brown
Taylor Wilson Evans Johnson Miller Davies Ivanov Petrov Smirnov Popescu Novak Horvat
Nagy Kovacs Papadopoulos Nguyen Tran Le Pham Kim Park Lee Chen Wang Li Zhang Liu Ahmed
Hassan Khan Rahman Haddad Mansour Friedrichs Behrens Claßen Dreyer Ebert Eckert Fink
Frey Geiger Gerlach Hartung Heinze Hempel Herzog Hinz Hummel Jahn Janssen Kern Kirchner
Kluge Knoll Konrad Kunz Lenz Lutz Mack Mann Michel Mohr Nagel Petersen Pieper Popp Rau
Reimann Reuter Riedel Ritter Rudolph Runge Schade Schenk Schilling Schlegel Schmitz
Schnell Schramm Seifert Stahl Strauß Thiele Ullrich Unger Vetter Walther Weiss Welsch
Wendt Wilke Witt Wulf Zander Ziegler Zimmer Brückner Bühler Dörr Förster Hölzel Lück
Mertens Nolte Ostermann Pfeifer Quast Rademacher Scholl Tiedemann Utz Vollmer Wiegand
Abel Adam Bach Bader Baier Bartsch Bernhardt Blum Bode Bohn Brandl Brauer Burkhardt
Dietz Dittrich Eder Ehlers Engelhardt Fiedler Fleischer Gärtner Gebhardt Haase Hauser
Heck Heil Heller Henning Hess Hildebrandt Hirsch Hoppe Jacob Jakob Kaufmann Kessler
""".split()


def _dedupe(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name, None)
    return tuple(seen)


FIRST_NAMES_F = _dedupe(FIRST_NAMES_F)
FIRST_NAMES_M = _dedupe(FIRST_NAMES_M)
LAST_NAMES = _dedupe(LAST_NAMES)

_TRANSLIT = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ś": "s",
        "ş": "s",
        "ç": "c",
        "ı": "i",
        "ğ": "g",
        "ł": "l",
        "é": "e",
        "è": "e",
        "Ş": "S",
        "Ç": "C",
    }
)


def ascii_name(name: str) -> str:
    """Lower-case ASCII transliteration for email local parts (Müller -> mueller)."""
    return name.translate(_TRANSLIT).lower().replace(" ", "").replace("-", "")


def zipf_weights(n: int, exponent: float = 0.9, shift: float = 8.0) -> np.ndarray:
    """Popularity weights that decay with list position (earlier = more common)."""
    w = 1.0 / (np.arange(n) + shift) ** exponent
    return w / w.sum()


# keyboard neighbours for "swapped letter" typos
_NEIGHBOURS = {
    "a": "sq",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "j": "hk",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "bm",
    "o": "ip",
    "p": "o",
    "q": "w",
    "r": "et",
    "s": "ad",
    "t": "rz",
    "u": "zi",
    "v": "cb",
    "w": "qe",
    "x": "yc",
    "y": "x",
    "z": "tu",
}


def typo_variants(name: str) -> tuple[str, str, str]:
    """Three deterministic typos: adjacent transposition, dropped letter, swapped letter."""
    n = len(name)
    h = sum(map(ord, name))
    i = 1 + h % max(n - 2, 1)  # never touch the first letter
    i = min(i, n - 2) if n > 2 else 0
    trans = name[:i] + name[i + 1] + name[i] + name[i + 2 :] if n > 2 else name + name[-1]
    j = 1 + (h * 7) % max(n - 1, 1)
    drop = name[:j] + name[j + 1 :] if n > 3 else name + name[-1]
    k = 1 + (h * 13) % max(n - 1, 1)
    ch = name[k] if k < n else name[-1]
    repl = _NEIGHBOURS.get(ch.lower(), "e")[h % len(_NEIGHBOURS.get(ch.lower(), "e"))]
    swap = name[:k] + repl + name[k + 1 :] if k < n else name[:-1] + repl
    if trans == name:
        trans = name[:-1] + _NEIGHBOURS.get(name[-1].lower(), "e")[0]
    return trans, drop, swap


# ---------------------------------------------------------------------------
# cities: name, region, postcode range, area code, population (thousands), kind
# kind: 0 = big city (>500k), 1 = mid-size city, 2 = small town / rural
# ---------------------------------------------------------------------------
CITIES: tuple[tuple[str, str, int, int, str, int, int], ...] = (
    ("Berlin", "Berlin", 10115, 14199, "30", 3850, 0),
    ("Hamburg", "Hamburg", 20095, 22769, "40", 1900, 0),
    ("München", "Bayern", 80331, 81929, "89", 1510, 0),
    ("Köln", "Nordrhein-Westfalen", 50667, 51149, "221", 1080, 0),
    ("Frankfurt am Main", "Hessen", 60306, 60599, "69", 770, 0),
    ("Stuttgart", "Baden-Württemberg", 70173, 70629, "711", 630, 0),
    ("Düsseldorf", "Nordrhein-Westfalen", 40210, 40629, "211", 620, 0),
    ("Leipzig", "Sachsen", 4103, 4357, "341", 610, 0),
    ("Dortmund", "Nordrhein-Westfalen", 44135, 44388, "231", 590, 0),
    ("Essen", "Nordrhein-Westfalen", 45127, 45359, "201", 580, 0),
    ("Bremen", "Bremen", 28195, 28779, "421", 570, 0),
    ("Dresden", "Sachsen", 1067, 1328, "351", 560, 0),
    ("Hannover", "Niedersachsen", 30159, 30669, "511", 540, 0),
    ("Nürnberg", "Bayern", 90402, 90491, "911", 520, 0),
    ("Duisburg", "Nordrhein-Westfalen", 47051, 47279, "203", 500, 1),
    ("Bochum", "Nordrhein-Westfalen", 44787, 44894, "234", 365, 1),
    ("Wuppertal", "Nordrhein-Westfalen", 42103, 42399, "202", 355, 1),
    ("Bielefeld", "Nordrhein-Westfalen", 33602, 33739, "521", 335, 1),
    ("Bonn", "Nordrhein-Westfalen", 53111, 53229, "228", 330, 1),
    ("Münster", "Nordrhein-Westfalen", 48143, 48167, "251", 320, 1),
    ("Mannheim", "Baden-Württemberg", 68159, 68309, "621", 315, 1),
    ("Karlsruhe", "Baden-Württemberg", 76131, 76229, "721", 305, 1),
    ("Augsburg", "Bayern", 86150, 86199, "821", 300, 1),
    ("Wiesbaden", "Hessen", 65183, 65207, "611", 280, 1),
    ("Kiel", "Schleswig-Holstein", 24103, 24159, "431", 245, 1),
    ("Aachen", "Nordrhein-Westfalen", 52062, 52080, "241", 250, 1),
    ("Braunschweig", "Niedersachsen", 38100, 38126, "531", 250, 1),
    ("Chemnitz", "Sachsen", 9111, 9247, "371", 245, 1),
    ("Halle (Saale)", "Sachsen-Anhalt", 6108, 6132, "345", 240, 1),
    ("Magdeburg", "Sachsen-Anhalt", 39104, 39130, "391", 235, 1),
    ("Freiburg im Breisgau", "Baden-Württemberg", 79098, 79117, "761", 230, 1),
    ("Mainz", "Rheinland-Pfalz", 55116, 55131, "6131", 220, 1),
    ("Lübeck", "Schleswig-Holstein", 23552, 23570, "451", 215, 1),
    ("Erfurt", "Thüringen", 99084, 99099, "361", 215, 1),
    ("Rostock", "Mecklenburg-Vorpommern", 18055, 18147, "381", 210, 1),
    ("Kassel", "Hessen", 34117, 34134, "561", 200, 1),
    ("Potsdam", "Brandenburg", 14467, 14482, "331", 185, 1),
    ("Saarbrücken", "Saarland", 66111, 66133, "681", 180, 1),
    ("Oldenburg", "Niedersachsen", 26121, 26135, "441", 170, 1),
    ("Osnabrück", "Niedersachsen", 49074, 49090, "541", 165, 1),
    ("Heidelberg", "Baden-Württemberg", 69115, 69126, "6221", 160, 1),
    ("Darmstadt", "Hessen", 64283, 64297, "6151", 160, 1),
    ("Regensburg", "Bayern", 93047, 93059, "941", 155, 1),
    ("Würzburg", "Bayern", 97070, 97084, "931", 128, 1),
    ("Ulm", "Baden-Württemberg", 89073, 89081, "731", 127, 1),
    ("Göttingen", "Niedersachsen", 37073, 37085, "551", 118, 1),
    ("Gießen", "Hessen", 35390, 35398, "641", 90, 2),
    ("Tübingen", "Baden-Württemberg", 72070, 72076, "7071", 91, 2),
    ("Konstanz", "Baden-Württemberg", 78462, 78467, "7531", 85, 2),
    ("Lüneburg", "Niedersachsen", 21335, 21339, "4131", 77, 2),
    ("Bamberg", "Bayern", 96047, 96052, "951", 77, 2),
    ("Marburg", "Hessen", 35037, 35043, "6421", 77, 2),
    ("Landshut", "Bayern", 84028, 84036, "871", 73, 2),
    ("Kempten", "Bayern", 87435, 87439, "831", 70, 2),
    ("Celle", "Niedersachsen", 29221, 29229, "5141", 69, 2),
    ("Fulda", "Hessen", 36037, 36043, "661", 68, 2),
    ("Weimar", "Thüringen", 99423, 99428, "3643", 65, 2),
    ("Rosenheim", "Bayern", 83022, 83026, "8031", 64, 2),
    ("Stralsund", "Mecklenburg-Vorpommern", 18435, 18439, "3831", 59, 2),
    ("Passau", "Bayern", 94032, 94036, "851", 53, 2),
    ("Goslar", "Niedersachsen", 38640, 38644, "5321", 50, 2),
    ("Wismar", "Mecklenburg-Vorpommern", 23966, 23970, "3841", 43, 2),
    ("Meppen", "Niedersachsen", 49716, 49716, "5931", 35, 2),
    ("Wernigerode", "Sachsen-Anhalt", 38855, 38855, "3943", 32, 2),
    ("Garmisch-Partenkirchen", "Bayern", 82467, 82467, "8821", 27, 2),
    ("Lindau", "Bayern", 88131, 88131, "8382", 25, 2),
    ("Husum", "Schleswig-Holstein", 25813, 25813, "4841", 23, 2),
    ("Freudenstadt", "Baden-Württemberg", 72250, 72250, "7441", 23, 2),
    ("Bad Tölz", "Bayern", 83646, 83646, "8041", 19, 2),
    ("Bad Reichenhall", "Bayern", 83435, 83435, "8651", 18, 2),
    ("Füssen", "Bayern", 87629, 87629, "8362", 15, 2),
    ("Winterberg", "Nordrhein-Westfalen", 59955, 59955, "2981", 13, 2),
    ("Titisee-Neustadt", "Baden-Württemberg", 79822, 79822, "7651", 12, 2),
    ("Oberstdorf", "Bayern", 87561, 87561, "8322", 10, 2),
    ("Berchtesgaden", "Bayern", 83471, 83471, "8652", 8, 2),
    ("Cochem", "Rheinland-Pfalz", 56812, 56812, "2671", 5, 2),
)
#: small towns stand in for the many places not listed: scale their weight up
KIND_WEIGHT = (1.0, 1.0, 5.0)

MOBILE_PREFIXES = (
    "151",
    "152",
    "157",
    "159",
    "160",
    "162",
    "163",
    "170",
    "171",
    "172",
    "173",
    "174",
    "175",
    "176",
    "177",
    "178",
    "179",
)

#: person email domains and their popularity
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.26),
    ("web.de", 0.17),
    ("gmx.de", 0.16),
    ("t-online.de", 0.08),
    ("outlook.com", 0.06),
    ("yahoo.de", 0.04),
    ("icloud.com", 0.05),
    ("hotmail.com", 0.04),
    ("posteo.de", 0.03),
    ("mail.de", 0.02),
    ("gmx.net", 0.04),
    ("outlook.de", 0.02),
    ("proton.me", 0.02),
    ("yahoo.com", 0.01),
)
#: domains no simulated person uses (emails that must match nobody)
UNMATCHED_DOMAINS = ("aol.com", "freenet.de", "arcor.de", "online.de", "kabelmail.de")
#: placeholder emails typed in by staff or customers; shared by unrelated persons
PLACEHOLDER_EMAILS = (
    "test@test.com",
    "noemail@example.com",
    "keine@email.de",
    "none@none.com",
    "no@mail.de",
    "kunde@shop.de",
)


@cache
def name_tables() -> dict[str, object]:
    """Name pools as lists plus ASCII forms, popularity weights and typo variants."""
    out: dict[str, object] = {}
    for key, names in (("first_f", FIRST_NAMES_F), ("first_m", FIRST_NAMES_M), ("last", LAST_NAMES)):
        out[key] = list(names)
        out[key + "_ascii"] = [ascii_name(n) for n in names]
        out[key + "_weights"] = zipf_weights(len(names))
        out[key + "_typos"] = [t for n in names for t in typo_variants(n)]
    return out
