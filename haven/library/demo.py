"""Demo health content for `haven demo`: two articles and the quit-smoking programme, each in
English, Spanish and Italian. Safe to run again: what exists is left as it is."""

from django.db import transaction
from django.utils import timezone

from haven.library.models import (
    Article,
    ArticleText,
    Item,
    ItemKind,
    ItemText,
    Programme,
    ProgrammeText,
    Status,
)

ARTICLES = {
    "flu-vaccine": {
        "public": True,
        "texts": {
            "en": (
                "Your yearly flu vaccine",
                "Who should get it, when, and what it costs you.",
                "The flu vaccine is recommended every year for everyone aged six months and older. "
                "The best time is early autumn, before the flu season starts.\n\n"
                "Your plan covers the vaccine at no cost at in-network pharmacies and practices. "
                "Bring your member ID card.\n\n"
                "A sore arm or a mild fever for a day is common and passes on its own.",
            ),
            "es": (
                "Su vacuna anual contra la gripe",
                "Quién debe ponérsela, cuándo y cuánto le cuesta.",
                "Se recomienda la vacuna contra la gripe cada año para todas las personas a partir "
                "de los seis meses. El mejor momento es a principios de otoño, antes de la temporada "
                "de gripe.\n\n"
                "Su plan cubre la vacuna sin costo en farmacias y consultorios de la red. Lleve su "
                "tarjeta de afiliado.\n\n"
                "Es común tener el brazo adolorido o algo de fiebre durante un día; se pasa sola.",
            ),
            "it": (
                "Il vaccino antinfluenzale di ogni anno",
                "Chi dovrebbe farlo, quando, e quanto costa.",
                "Il vaccino antinfluenzale è raccomandato ogni anno a tutti a partire dai sei mesi "
                "di età. Il momento migliore è l'inizio dell'autunno, prima della stagione "
                "influenzale.\n\n"
                "Il piano copre il vaccino senza costi nelle farmacie e negli studi convenzionati. "
                "Porti con sé la tessera dell'assicurato.\n\n"
                "Un braccio dolente o un po' di febbre per un giorno sono comuni e passano da soli.",
            ),
        },
    },
    "sleep-well": {
        "public": False,
        "texts": {
            "en": (
                "Sleeping well",
                "Simple habits for better sleep.",
                "Go to bed and get up at the same time every day, weekends included.\n\n"
                "Keep the bedroom dark, quiet and cool, and put screens away an hour before bed.\n\n"
                "If poor sleep lasts more than a few weeks, talk to your doctor.",
            ),
            "es": (
                "Dormir bien",
                "Hábitos sencillos para dormir mejor.",
                "Acuéstese y levántese a la misma hora todos los días, también los fines de "
                "semana.\n\n"
                "Mantenga el dormitorio oscuro, silencioso y fresco, y deje las pantallas una hora "
                "antes de dormir.\n\n"
                "Si duerme mal durante más de unas semanas, hable con su médico.",
            ),
            # No Italian version: Italian readers see the English one.
        },
    },
}

PROGRAMME_SLUG = "quit-smoking"
PROGRAMME = {
    "en": (
        "Quit smoking",
        "Tips and short check-ins, at your pace, to help you stop smoking for good.",
        "Stopping smoking is the best thing you can do for your health, and help makes it more "
        "likely to last.\n\n"
        "Choose how often you want a tip and a short questionnaire on your progress. They wait "
        "for you on your page in Haven; an e-mail can tell you when one arrives, without saying "
        "what it is.\n\n"
        "Nicotine replacement and stop-smoking medicines are covered by your plan: ask your doctor.",
    ),
    "es": (
        "Dejar de fumar",
        "Consejos y breves cuestionarios, a su ritmo, para dejar de fumar para siempre.",
        "Dejar de fumar es lo mejor que puede hacer por su salud, y con ayuda es más probable que "
        "lo logre.\n\n"
        "Elija con qué frecuencia quiere un consejo y un breve cuestionario sobre su progreso. "
        "Le esperan en su página de Haven; un correo puede avisarle cuando llegue uno, sin decir "
        "qué es.\n\n"
        "Su plan cubre los sustitutos de nicotina y los medicamentos para dejar de fumar: "
        "pregunte a su médico.",
    ),
    "it": (
        "Smettere di fumare",
        "Consigli e brevi questionari, al suo ritmo, per smettere di fumare per sempre.",
        "Smettere di fumare è la cosa migliore che può fare per la sua salute, e con un aiuto è "
        "più probabile riuscirci.\n\n"
        "Scelga ogni quanto ricevere un consiglio e un breve questionario sui suoi progressi. La "
        "aspettano nella sua pagina di Haven; un'e-mail può avvisarla quando ne arriva uno, senza "
        "dire di cosa si tratta.\n\n"
        "Il piano copre i sostituti della nicotina e i farmaci per smettere di fumare: chieda al "
        "suo medico.",
    ),
}
TIPS = [
    {
        "en": "Pick a quit date in the next two weeks and tell people close to you.",
        "es": "Elija una fecha para dejarlo en las próximas dos semanas y cuénteselo a sus "
        "allegados.",
        "it": "Scelga una data per smettere nelle prossime due settimane e lo dica alle persone "
        "vicine.",
    },
    {
        "en": "A craving passes in a few minutes: drink a glass of water or take a short walk.",
        "es": "Las ganas pasan en unos minutos: beba un vaso de agua o dé un paseo corto.",
        "it": "La voglia passa in pochi minuti: beva un bicchiere d'acqua o faccia una breve "
        "passeggiata.",
    },
    {
        "en": "Remove cigarettes, lighters and ashtrays from your home and car.",
        "es": "Quite los cigarrillos, encendedores y ceniceros de su casa y su coche.",
        "it": "Tolga sigarette, accendini e posacenere da casa e dall'auto.",
    },
]
QUESTIONS = [
    {
        "en": "How many cigarettes did you smoke yesterday?",
        "es": "¿Cuántos cigarrillos fumó ayer?",
        "it": "Quante sigarette ha fumato ieri?",
    },
    {
        "en": "How strong were your cravings this week, from 0 (none) to 10 (very strong)?",
        "es": "¿Qué tan fuertes fueron sus ganas de fumar esta semana, de 0 (nada) a 10 "
        "(muy fuertes)?",
        "it": "Quanto è stata forte la voglia di fumare questa settimana, da 0 (nessuna) a 10 "
        "(fortissima)?",
    },
]


@transaction.atomic
def load() -> None:
    for slug, data in ARTICLES.items():
        article, created = Article.objects.get_or_create(
            slug=slug,
            defaults={
                "status": Status.PUBLISHED,
                "public": data["public"],
                "published_at": timezone.now(),
            },
        )
        if created:
            for language, (title, summary, body) in data["texts"].items():
                ArticleText.objects.create(
                    article=article, language=language, title=title, summary=summary, body=body
                )
    programme, created = Programme.objects.get_or_create(
        slug=PROGRAMME_SLUG, defaults={"status": Status.PUBLISHED}
    )
    if not created:
        return
    for language, (title, summary, body) in PROGRAMME.items():
        ProgrammeText.objects.create(
            programme=programme, language=language, title=title, summary=summary, body=body
        )
    for kind, rows in ((ItemKind.TIP, TIPS), (ItemKind.QUESTION, QUESTIONS)):
        for position, texts in enumerate(rows, start=1):
            item = Item.objects.create(programme=programme, kind=kind, position=position)
            for language, text in texts.items():
                ItemText.objects.create(item=item, language=language, text=text)
