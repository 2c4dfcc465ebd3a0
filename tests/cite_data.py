"""Test data for the kb.cite tests: real references, written by hand as
BibTeX and as the CSL-JSON items ingest makes from them, and a small database
with the real schema.

Every bibliographic field below is a real one (checked against the published
work or evidence/research/*.md); fields we could not confirm are left out, as
in citations.bib. The *claims* are test fixtures, not curated evidence.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

# key -> (BibTeX entry, CSL-JSON item as ingest writes it, missing fields)
REFERENCES: dict[str, tuple[str, dict, list[str]]] = {
    "redelmeier1995randomised": (
        """@article{redelmeier1995randomised,
  author  = {Redelmeier, D. A. and Molin, J. P. and Tibshirani, R. J.},
  title   = {A randomised trial of compassionate care for the homeless in an emergency department},
  journal = {The Lancet},
  year    = {1995},
  volume  = {345},
  number  = {8958},
  pages   = {1131--1134},
  doi     = {10.1016/S0140-6736(95)90975-3}
}""",
        {
            "type": "article-journal",
            "author": [
                {"family": "Redelmeier", "given": "D. A."},
                {"family": "Molin", "given": "J. P."},
                {"family": "Tibshirani", "given": "R. J."},
            ],
            "title": "A randomised trial of compassionate care for the homeless in an emergency department",
            "container-title": "The Lancet",
            "issued": {"date-parts": [[1995]]},
            "volume": "345",
            "issue": "8958",
            "page": "1131-1134",
            "DOI": "10.1016/S0140-6736(95)90975-3",
        },
        [],
    ),
    "sonnentag2017advances": (
        """@article{sonnentag2017advances,
  author  = {Sonnentag, Sabine and Venz, Laura and Casper, Anne},
  title   = {Advances in recovery research: What have we learned? What should be done next?},
  journal = {Journal of Occupational Health Psychology},
  year    = {2017},
  volume  = {22},
  number  = {3},
  pages   = {365--380},
  doi     = {10.1037/ocp0000079}
}""",
        {
            "type": "article-journal",
            "author": [
                {"family": "Sonnentag", "given": "Sabine"},
                {"family": "Venz", "given": "Laura"},
                {"family": "Casper", "given": "Anne"},
            ],
            "title": "Advances in recovery research: What have we learned? What should be done next?",
            "container-title": "Journal of Occupational Health Psychology",
            "issued": {"date-parts": [[2017]]},
            "volume": "22",
            "issue": "3",
            "page": "365-380",
            "DOI": "10.1037/ocp0000079",
        },
        [],
    ),
    "kelley2014influence": (
        """@article{kelley2014influence,
  author  = {Kelley, John M. and Kraft-Todd, Gordon and Schapira, Lidia and Kossowsky, Joe and Riess, Helen},
  title   = {The influence of the patient-clinician relationship on healthcare outcomes: A systematic review and meta-analysis of randomized controlled trials},
  journal = {PLoS ONE},
  year    = {2014},
  volume  = {9},
  number  = {4},
  pages   = {e94207},
  doi     = {10.1371/journal.pone.0094207}
}""",
        {
            "type": "article-journal",
            "author": [
                {"family": "Kelley", "given": "John M."},
                {"family": "Kraft-Todd", "given": "Gordon"},
                {"family": "Schapira", "given": "Lidia"},
                {"family": "Kossowsky", "given": "Joe"},
                {"family": "Riess", "given": "Helen"},
            ],
            "title": "The influence of the patient-clinician relationship on healthcare outcomes: "
            "A systematic review and meta-analysis of randomized controlled trials",
            "container-title": "PLoS ONE",
            "issued": {"date-parts": [[2014]]},
            "volume": "9",
            "issue": "4",
            "page": "e94207",
            "DOI": "10.1371/journal.pone.0094207",
        },
        [],
    ),
    "ohman2001fears": (
        """@article{ohman2001fears,
  author  = {{\\"O}hman, Arne and Mineka, Susan},
  title   = {Fears, phobias, and preparedness: Toward an evolved module of fear and fear learning},
  journal = {Psychological Review},
  year    = {2001},
  volume  = {108},
  number  = {3},
  pages   = {483--522},
  doi     = {10.1037/0033-295X.108.3.483}
}""",
        {
            "type": "article-journal",
            "author": [{"family": "Öhman", "given": "Arne"}, {"family": "Mineka", "given": "Susan"}],
            "title": "Fears, phobias, and preparedness: Toward an evolved module of fear and fear learning",
            "container-title": "Psychological Review",
            "issued": {"date-parts": [[2001]]},
            "volume": "108",
            "issue": "3",
            "page": "483-522",
            "DOI": "10.1037/0033-295X.108.3.483",
        },
        [],
    ),
    "west2022leader": (
        """@article{west2022leader,
  author  = {West, Thomas H. R. and Daher, Pascale and Dawson, Jeremy F. and Lyubovnikova, Joanne and Buttigieg, Sandra C. and West, Michael A.},
  title   = {The relationship between leader support, staff influence over decision making, work pressure and patient satisfaction: A cross-sectional analysis of {NHS} datasets in {England}},
  journal = {BMJ Open},
  year    = {2022},
  volume  = {12},
  number  = {2},
  pages   = {e052778}
}""",
        {
            "type": "article-journal",
            "author": [
                {"family": "West", "given": "Thomas H. R."},
                {"family": "Daher", "given": "Pascale"},
                {"family": "Dawson", "given": "Jeremy F."},
                {"family": "Lyubovnikova", "given": "Joanne"},
                {"family": "Buttigieg", "given": "Sandra C."},
                {"family": "West", "given": "Michael A."},
            ],
            "title": "The relationship between leader support, staff influence over decision making, work pressure "
            "and patient satisfaction: A cross-sectional analysis of NHS datasets in England",
            "container-title": "BMJ Open",
            "issued": {"date-parts": [[2022]]},
            "volume": "12",
            "issue": "2",
            "page": "e052778",
        },
        ["doi"],
    ),
    "west2021compassionate": (
        """@book{west2021compassionate,
  author    = {West, Michael A.},
  title     = {Compassionate leadership: Sustaining wisdom, humanity and presence in health and social care},
  publisher = {Swirling Leaf Press},
  year      = {2021}
}""",
        {
            "type": "book",
            "author": [{"family": "West", "given": "Michael A."}],
            "title": "Compassionate leadership: Sustaining wisdom, humanity and presence in health and social care",
            "publisher": "Swirling Leaf Press",
            "issued": {"date-parts": [[2021]]},
        },
        ["address"],
    ),
    "west2017compassionate": (
        """@incollection{west2017compassionate,
  author    = {West, Michael A. and Chowla, R.},
  title     = {Compassionate leadership for compassionate health care},
  editor    = {Gilbert, Paul},
  booktitle = {Compassion: Concepts, research and applications},
  publisher = {Routledge},
  year      = {2017},
  isbn      = {9781138957190}
}""",
        {
            "type": "chapter",
            "author": [{"family": "West", "given": "Michael A."}, {"family": "Chowla", "given": "R."}],
            "editor": [{"family": "Gilbert", "given": "Paul"}],
            "title": "Compassionate leadership for compassionate health care",
            "container-title": "Compassion: Concepts, research and applications",
            "publisher": "Routledge",
            "issued": {"date-parts": [[2017]]},
            "ISBN": "9781138957190",
        },
        ["pages"],
    ),
    "tajfel1979integrative": (
        """@incollection{tajfel1979integrative,
  author    = {Tajfel, Henri and Turner, John C.},
  title     = {An integrative theory of intergroup conflict},
  editor    = {Austin, William G. and Worchel, Stephen},
  booktitle = {The social psychology of intergroup relations},
  publisher = {Brooks/Cole},
  year      = {1979},
  pages     = {33--47}
}""",
        {
            "type": "chapter",
            "author": [{"family": "Tajfel", "given": "Henri"}, {"family": "Turner", "given": "John C."}],
            "editor": [{"family": "Austin", "given": "William G."}, {"family": "Worchel", "given": "Stephen"}],
            "title": "An integrative theory of intergroup conflict",
            "container-title": "The social psychology of intergroup relations",
            "publisher": "Brooks/Cole",
            "issued": {"date-parts": [[1979]]},
            "page": "33-47",
        },
        [],
    ),
    "iom2001crossing": (
        """@techreport{iom2001crossing,
  author      = {{Institute of Medicine}},
  title       = {Crossing the quality chasm: A new health system for the 21st century},
  institution = {National Academy Press},
  year        = {2001},
  doi         = {10.17226/10027}
}""",
        {
            "type": "report",
            "author": [{"literal": "Institute of Medicine"}],
            "title": "Crossing the quality chasm: A new health system for the 21st century",
            "publisher": "National Academy Press",
            "issued": {"date-parts": [[2001]]},
            "DOI": "10.17226/10027",
        },
        ["url"],
    ),
    "nhsengland2019longterm": (
        """@techreport{nhsengland2019longterm,
  author      = {{NHS England}},
  title       = {The {NHS} long term plan},
  institution = {{NHS England}},
  year        = {2019}
}""",
        {
            "type": "report",
            "author": [{"literal": "NHS England"}],
            "title": "The NHS long term plan",
            "publisher": "NHS England",
            "issued": {"date-parts": [[2019]]},
        },
        ["url"],
    ),
    "west2019caring": (
        """@techreport{west2019caring,
  author      = {West, Michael and Coia, Denise},
  title       = {Caring for doctors, caring for patients: How to transform {UK} healthcare environments to support doctors and medical students to care for patients},
  institution = {General Medical Council},
  year        = {2019},
  url         = {https://www.gmc-uk.org/-/media/documents/caring-for-doctors-caring-for-patients_pdf-80706341.pdf}
}""",
        {
            "type": "report",
            "author": [{"family": "West", "given": "Michael"}, {"family": "Coia", "given": "Denise"}],
            "title": "Caring for doctors, caring for patients: How to transform UK healthcare environments to "
            "support doctors and medical students to care for patients",
            "publisher": "General Medical Council",
            "issued": {"date-parts": [[2019]]},
            "URL": "https://www.gmc-uk.org/-/media/documents/caring-for-doctors-caring-for-patients_pdf-80706341.pdf",
        },
        [],
    ),
    "west2020courage": (
        """@techreport{west2020courage,
  author      = {West, Michael and Bailey, Suzie and Williams, Ethan},
  title       = {The courage of compassion: Supporting nurses and midwives to deliver high-quality care},
  institution = {The King's Fund},
  year        = {2020},
  url         = {https://www.kingsfund.org.uk/publications/courage-compassion-supporting-nurses-midwives}
}""",
        {
            "type": "report",
            "author": [
                {"family": "West", "given": "Michael"},
                {"family": "Bailey", "given": "Suzie"},
                {"family": "Williams", "given": "Ethan"},
            ],
            "title": "The courage of compassion: Supporting nurses and midwives to deliver high-quality care",
            "publisher": "The King's Fund",
            "issued": {"date-parts": [[2020]]},
            "URL": "https://www.kingsfund.org.uk/publications/courage-compassion-supporting-nurses-midwives",
        },
        [],
    ),
    "nhsengland_culture_programme": (
        """@online{nhsengland_culture_programme,
  author  = {{NHS England}},
  title   = {The {Culture and Leadership} programme},
  url     = {https://www.england.nhs.uk/culture/culture-leadership-programme/},
  urldate = {2024-03-01}
}""",
        {
            "type": "webpage",
            "author": [{"literal": "NHS England"}],
            "title": "The Culture and Leadership programme",
            "URL": "https://www.england.nhs.uk/culture/culture-leadership-programme/",
            "accessed": {"date-parts": [[2024, 3, 1]]},
        },
        ["year"],
    ),
    "nhsengland2018links": (
        """@online{nhsengland2018links,
  author = {{NHS England}},
  title  = {Links between {NHS} staff experience and patient satisfaction: Analysis of surveys from 2014 and 2015},
  url    = {https://www.england.nhs.uk/publication/links-between-nhs-staff-experience-and-patient-satisfaction-analysis-of-surveys-from-2014-and-2015/}
}""",
        {
            "type": "webpage",
            "author": [{"literal": "NHS England"}],
            "title": "Links between NHS staff experience and patient satisfaction: Analysis of surveys from 2014 and 2015",
            "URL": "https://www.england.nhs.uk/publication/links-between-nhs-staff-experience-and-patient-"
            "satisfaction-analysis-of-surveys-from-2014-and-2015/",
        },
        ["year", "urldate"],
    ),
    "selfcompassion_app": (
        """@online{selfcompassion_app,
  title = {The {Self-Compassion App}},
  url   = {https://apps.apple.com/gh/app/the-self-compassion-app/id1553464180}
}""",
        {
            "type": "webpage",
            "title": "The Self-Compassion App",
            "URL": "https://apps.apple.com/gh/app/the-self-compassion-app/id1553464180",
        },
        ["author", "year", "urldate"],
    ),
}

# APA 7 references, checked by hand against the Publication Manual (7th ed.):
# 9.8 authors as "Surname, I. I.", "&" before the last; 9.11 group authors;
# 9.14/9.17 (n.d.); 9.19-9.21 sentence-case titles, italic for stand-alone
# works; 9.25 periodical and volume in italics, issue in parentheses, en-dash
# page range, "Article" + eLocator; 9.24 publisher left out when it is the
# author; 9.34-9.35 DOI as https://doi.org/ URL, no final period; 10.3 ex. 38
# chapters "In E. Editor (Ed.), Title (pp. x–y). Publisher."; 9.16 and 10.16
# retrieval dates for pages that change; no site name when it is the author.
APA_PLAIN = {
    "redelmeier1995randomised": "Redelmeier, D. A., Molin, J. P., & Tibshirani, R. J. (1995). A randomised trial of "
    "compassionate care for the homeless in an emergency department. The Lancet, 345(8958), 1131–1134. "
    "https://doi.org/10.1016/S0140-6736(95)90975-3",
    "sonnentag2017advances": "Sonnentag, S., Venz, L., & Casper, A. (2017). Advances in recovery research: What have "
    "we learned? What should be done next? Journal of Occupational Health Psychology, 22(3), 365–380. "
    "https://doi.org/10.1037/ocp0000079",
    "kelley2014influence": "Kelley, J. M., Kraft-Todd, G., Schapira, L., Kossowsky, J., & Riess, H. (2014). The "
    "influence of the patient-clinician relationship on healthcare outcomes: A systematic review and meta-analysis "
    "of randomized controlled trials. PLoS ONE, 9(4), Article e94207. https://doi.org/10.1371/journal.pone.0094207",
    "ohman2001fears": "Öhman, A., & Mineka, S. (2001). Fears, phobias, and preparedness: Toward an evolved module "
    "of fear and fear learning. Psychological Review, 108(3), 483–522. https://doi.org/10.1037/0033-295X.108.3.483",
    "west2022leader": "West, T. H. R., Daher, P., Dawson, J. F., Lyubovnikova, J., Buttigieg, S. C., & West, M. A. "
    "(2022). The relationship between leader support, staff influence over decision making, work pressure and "
    "patient satisfaction: A cross-sectional analysis of NHS datasets in England. BMJ Open, 12(2), Article e052778.",
    "west2021compassionate": "West, M. A. (2021). Compassionate leadership: Sustaining wisdom, humanity and presence "
    "in health and social care. Swirling Leaf Press.",
    "west2017compassionate": "West, M. A., & Chowla, R. (2017). Compassionate leadership for compassionate health "
    "care. In P. Gilbert (Ed.), Compassion: Concepts, research and applications. Routledge.",
    "tajfel1979integrative": "Tajfel, H., & Turner, J. C. (1979). An integrative theory of intergroup conflict. In "
    "W. G. Austin & S. Worchel (Eds.), The social psychology of intergroup relations (pp. 33–47). Brooks/Cole.",
    "iom2001crossing": "Institute of Medicine. (2001). Crossing the quality chasm: A new health system for the 21st "
    "century. National Academy Press. https://doi.org/10.17226/10027",
    "nhsengland2019longterm": "NHS England. (2019). The NHS long term plan.",
    "west2019caring": "West, M., & Coia, D. (2019). Caring for doctors, caring for patients: How to transform UK "
    "healthcare environments to support doctors and medical students to care for patients. General Medical "
    "Council. https://www.gmc-uk.org/-/media/documents/caring-for-doctors-caring-for-patients_pdf-80706341.pdf",
    "west2020courage": "West, M., Bailey, S., & Williams, E. (2020). The courage of compassion: Supporting nurses "
    "and midwives to deliver high-quality care. The King's Fund. "
    "https://www.kingsfund.org.uk/publications/courage-compassion-supporting-nurses-midwives",
    # Two undated works by NHS England: n.d.-a, n.d.-b by title, "The" ignored.
    "nhsengland_culture_programme": "NHS England. (n.d.-a). The Culture and Leadership programme. Retrieved March "
    "1, 2024, from https://www.england.nhs.uk/culture/culture-leadership-programme/",
    "nhsengland2018links": "NHS England. (n.d.-b). Links between NHS staff experience and patient satisfaction: "
    "Analysis of surveys from 2014 and 2015. https://www.england.nhs.uk/publication/links-between-nhs-staff-"
    "experience-and-patient-satisfaction-analysis-of-surveys-from-2014-and-2015/",
    "selfcompassion_app": "The Self-Compassion App. (n.d.). "
    "https://apps.apple.com/gh/app/the-self-compassion-app/id1553464180",
}

# The whole list in APA order (9.44-9.48): letter by letter ("Öhman" as
# "Ohman"), one-author before multi-author works of the same first author,
# then co-authors, n.d. before dated, no-author works by title without "The".
APA_ORDER = [
    "iom2001crossing",
    "kelley2014influence",
    "nhsengland_culture_programme",  # NHS England (n.d.-a): undated first,
    "nhsengland2018links",  # (n.d.-b): then by title, "The" ignored,
    "nhsengland2019longterm",  # then (2019)
    "ohman2001fears",  # Öhman files as Ohman
    "redelmeier1995randomised",
    "selfcompassion_app",  # no author: by title, "The" ignored (Self...)
    "sonnentag2017advances",
    "tajfel1979integrative",
    "west2020courage",  # West, M., Bailey ... before West, M., & Coia (second author)
    "west2019caring",
    "west2021compassionate",  # West, M. A.: "M." precedes "M. A." (nothing before something)
    "west2017compassionate",  # one-author work before West, M. A., & Chowla
    "west2022leader",  # West, T. H. R.
]


def source_row(key: str) -> dict:
    """A `sources` row as ingest writes it (only what kb.cite reads is real)."""
    bibtex, csl, missing = REFERENCES[key]
    return {
        "key": key,
        "entry_type": bibtex[1 : bibtex.index("{")],
        "csl_type": csl["type"],
        "title": csl.get("title"),
        "year": (csl.get("issued") or {"date-parts": [[None]]})["date-parts"][0][0],
        "doi": csl.get("DOI"),
        "url": csl.get("URL"),
        "citation_short": f"({key})",  # deliberately wrong: kb.cite must not use it
        "citation_narrative": key,
        "bibtex": bibtex + "\n",
        "csl_json": json.dumps({"id": key, **csl}, ensure_ascii=False),
        "missing_fields": json.dumps(missing),
    }


def sources(*keys: str) -> list[dict]:
    return [source_row(k) for k in (keys or REFERENCES)]


DOCUMENT_TEXT = (
    "Canada RCT of homeless people at \nA&E; compassion group 33% less \nlikely to return to A&E\n"
    "Sonnentag recovery slide\nRecovery experiences: detachment, relaxation, mastery, control\n"
)

# Test claims (not curated evidence). The first mirrors the real homeless-A&E
# claim; "fixture-discrepant-claim" exists to exercise the footnote.
CLAIMS = [
    {
        "id": "homeless-ed-compassion-return-visits",
        "kind": "finding",
        "statement": "In a Canadian randomised trial, homeless people who received compassion at the emergency "
        "department (A&E) were 33% less likely to return to it.",
        "quote": "Canada RCT of homeless people at \nA&E; compassion group 33% less \nlikely to return to A&E",
        "char_start": 0,
        "line_start": 1,
        "line_end": 3,
        "slide_number": 7,
        "slide_heading": "Compassion in Health and Social Care",
        "effect_text": "33% less likely",
        "certainty": "moderate",
        "topics": ["emergency-care"],
        "sources": [("redelmeier1995randomised", "attributed")],
    },
    {
        "id": "recovery-experiences",
        "kind": "framework",
        "statement": "Four recovery experiences help staff recover from work: psychological detachment, "
        "relaxation, mastery and control.",
        "quote": "Recovery experiences: detachment, relaxation, mastery, control",
        "char_start": 110,
        "line_start": 5,
        "line_end": 5,
        "slide_number": 20,
        "slide_heading": "Recovery",
        "effect_text": None,
        "certainty": "not_assessed",
        "topics": ["recovery"],
        "sources": [("sonnentag2017advances", "cited_in_deck")],
    },
    {
        "id": "fixture-discrepant-claim",
        "kind": "finding",
        "statement": "Fixture claim whose figure differs from its source.",
        "quote": "Sonnentag recovery slide",
        "char_start": 85,
        "line_start": 4,
        "line_end": 4,
        "slide_number": 19,
        "slide_heading": "Recovery",
        "effect_text": "50% lower",
        "source_effect_text": "a one third reduction",
        "source_effect_source": "redelmeier1995randomised",
        "source_effect_location": "abstract",
        "discrepancy": "Fixture: the deck rounds the source's one-third reduction up to a half.",
        "effect_status": "discrepant",
        "certainty": "low",
        "topics": ["recovery"],
        "sources": [("west2021compassionate", "cited_in_deck"), ("west2019caring", "cited_in_deck")],
    },
    {
        "id": "unsourced-claim",
        "kind": "context",
        "statement": "A claim the deck makes without any source.",
        "quote": "Sonnentag recovery slide",
        "char_start": 90,
        "line_start": 4,
        "line_end": 4,
        "slide_number": 19,
        "slide_heading": "Recovery",
        "effect_text": None,
        "certainty": "not_assessed",
        "topics": [],
        "sources": [],
    },
]

TOPICS = {"emergency-care": "Emergency care", "recovery": "Recovery", "teamwork": "Teamwork"}


def build_db(path: Path) -> Path:
    """A database with the real schema (ingest.schema) holding the test data."""
    from ingest.schema import create_schema

    db = sqlite_utils.Database(path)
    create_schema(db)
    db["documents"].insert({"id": "deck", "title": "Test deck", "sha256": "0", "text": DOCUMENT_TEXT})
    db["topics"].insert_all({"id": k, "label": v} for k, v in TOPICS.items())
    db["sources"].insert_all(source_row(k) for k in REFERENCES)
    for claim in CLAIMS:
        row = {k: v for k, v in claim.items() if k not in ("sources", "topics")}
        keys = [key for key, role in claim["sources"] if role != "background"]
        row.update(
            document_id="deck",
            char_end=claim["char_start"] + len(claim["quote"]),
            topics=json.dumps(claim["topics"]),
            source_keys=json.dumps(keys),
            citations="(stored in-text citation, not used)",
        )
        db["claims"].insert(row)
        db["claim_topics"].insert_all({"claim_id": claim["id"], "topic_id": t} for t in claim["topics"])
        db["claim_sources"].insert_all(
            {"claim_id": claim["id"], "source_key": k, "role": role, "confidence": "high"}
            for k, role in claim["sources"]
        )
    db.close()
    return path
