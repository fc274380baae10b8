"""A demo privacy notice in English, Spanish and Italian, and a recipients registry, for `haven demo`.

The notice texts are what a privacy officer writes; the retention periods, recipients, purposes and
contact details around them come from Haven's configuration when the notice is shown.
"""

from datetime import date

from django.utils import timezone

from haven.accounts.models import User
from haven.privacy.models import (
    DisclosurePurpose,
    Notice,
    NoticeText,
    Recipient,
    RecipientCategory,
)

REVISION = date(2026, 1, 15)

TEXTS = {
    "en": {
        "title": "Notice of privacy practices",
        "changes": "First version of this notice on the new member portal.",
        "body": """This notice describes how medical and personal information about you may be used and disclosed, and how you can get access to it. Please review it carefully.

## Our commitment
Haven Health Plan collects personal data, including medical data, to administer your coverage and claims, to provide member services and to meet its legal obligations. We treat it confidentially, with appropriate security, and only authorised staff who need it for your treatment, payment or our health care operations may see it.

## What we collect
Your name, address, e-mail address, phone and date of birth; your member ID and plan, benefits and eligibility; claims and their status; messages you exchange with your care team and member services; and documents your care team adds to your record.

## How we use it
To process claims and payments, to answer your requests, to help you find care, to send you the messages you chose in your contact preferences, and to meet the law. We do not use your data for marketing unless you authorise it separately, and you can withdraw that authorisation at any time.

## How we disclose it
Only to the recipients in our published registry, each for the purposes listed for it: your health care providers, service providers working for us, your employer as sponsor of your plan (only what it needs to administer the plan), our affiliates, and authorities when the law requires it. Some recipients are in other countries.

## Your rights
You can get a copy of your data, ask us to correct it, ask for the list of recipients, get an accounting of disclosures, and ask us to delete your account. We answer within the deadlines the law sets and you can follow each request in the privacy center.

## Changes to this notice
When we change this notice in a material way, we post the new version before it takes effect and tell you by e-mail or in the portal, as you prefer.""",
    },
    "es": {
        "title": "Aviso de prácticas de privacidad",
        "changes": "Primera versión de este aviso en el nuevo portal para afiliados.",
        "body": """Este aviso describe cómo se puede usar y divulgar su información médica y personal, y cómo puede acceder a ella. Léalo con atención.

## Nuestro compromiso
Haven Health Plan recopila datos personales, incluidos datos médicos, para administrar su cobertura y sus reclamaciones, prestar servicios a los afiliados y cumplir sus obligaciones legales. Los tratamos de forma confidencial, con la seguridad adecuada, y solo el personal autorizado que los necesita para su tratamiento, el pago o nuestras operaciones de atención médica puede verlos.

## Qué recopilamos
Su nombre, dirección, correo electrónico, teléfono y fecha de nacimiento; su número de afiliado y su plan, beneficios y elegibilidad; las reclamaciones y su estado; los mensajes que intercambia con su equipo de atención y con servicios al afiliado; y los documentos que su equipo de atención añade a su expediente.

## Cómo la usamos
Para tramitar reclamaciones y pagos, responder a sus solicitudes, ayudarle a encontrar atención, enviarle los mensajes que eligió en sus preferencias de contacto y cumplir la ley. No usamos sus datos con fines de marketing salvo que lo autorice por separado, y puede retirar esa autorización en cualquier momento.

## Cómo la divulgamos
Solo a los destinatarios de nuestro registro publicado, cada uno para los fines que figuran en él: sus proveedores de atención médica, los proveedores de servicios que trabajan para nosotros, su empleador como patrocinador de su plan (solo lo que necesita para administrarlo), nuestras empresas afiliadas y las autoridades cuando la ley lo exige. Algunos destinatarios están en otros países.

## Sus derechos
Puede obtener una copia de sus datos, pedirnos que los corrijamos, pedir la lista de destinatarios, obtener un registro de las divulgaciones y pedirnos que eliminemos su cuenta. Respondemos en los plazos que fija la ley y puede seguir cada solicitud en el centro de privacidad.

## Cambios en este aviso
Cuando cambiemos este aviso de forma importante, publicaremos la nueva versión antes de que entre en vigor y se lo comunicaremos por correo electrónico o en el portal, según prefiera.""",
    },
    "it": {
        "title": "Informativa sulle pratiche di privacy",
        "changes": "Prima versione di questa informativa sul nuovo portale per gli iscritti.",
        "body": """Questa informativa descrive come possono essere usate e comunicate le informazioni mediche e personali che la riguardano e come può accedervi. La legga con attenzione.

## Il nostro impegno
Haven Health Plan raccoglie dati personali, compresi dati medici, per gestire la sua copertura e i suoi rimborsi, offrire i servizi agli iscritti e adempiere ai propri obblighi di legge. Li trattiamo in modo riservato, con misure di sicurezza adeguate, e solo il personale autorizzato che ne ha bisogno per le sue cure, i pagamenti o le nostre attività sanitarie può vederli.

## Che cosa raccogliamo
Nome, indirizzo, indirizzo e-mail, telefono e data di nascita; numero di iscritto, piano, prestazioni e requisiti; le richieste di rimborso e il loro stato; i messaggi che scambia con il suo team di cura e con il servizio iscritti; i documenti che il suo team di cura aggiunge alla sua cartella.

## Come li usiamo
Per gestire rimborsi e pagamenti, rispondere alle sue richieste, aiutarla a trovare cure, inviarle i messaggi che ha scelto nelle preferenze di contatto e rispettare la legge. Non usiamo i suoi dati per il marketing senza una sua autorizzazione separata, che può revocare in qualsiasi momento.

## A chi li comunichiamo
Solo ai destinatari del nostro registro pubblicato, ciascuno per le finalità indicate: i suoi medici e strutture sanitarie, i fornitori di servizi che lavorano per noi, il suo datore di lavoro come promotore del piano (solo ciò che serve per gestirlo), le nostre società affiliate e le autorità quando la legge lo impone. Alcuni destinatari si trovano in altri paesi.

## I suoi diritti
Può ottenere una copia dei suoi dati, chiederci di correggerli, chiedere l'elenco dei destinatari, ottenere il resoconto delle comunicazioni e chiederci di cancellare il suo account. Rispondiamo entro i termini di legge e può seguire ogni richiesta nel centro privacy.

## Modifiche a questa informativa
Se modifichiamo questa informativa in modo sostanziale, pubblichiamo la nuova versione prima che entri in vigore e la avvisiamo per e-mail o nel portale, come preferisce.""",
    },
}

RECIPIENTS = [
    (
        "Haven Health Services BV",
        RecipientCategory.AFFILIATE,
        "BE",
        "Plantin en Moretuslei 1, 2140 Antwerp, Belgium",
        [DisclosurePurpose.OPERATIONS, DisclosurePurpose.PAYMENT],
        "Claims handling and customer service for members abroad.",
    ),
    (
        "Northwind Claims Processing Inc.",
        RecipientCategory.SERVICE_PROVIDER,
        "US",
        "200 Main Street, Hartford, CT 06103, United States",
        [DisclosurePurpose.PAYMENT],
        "Processes claims on the plan's behalf.",
    ),
    (
        "Riverside Manufacturing (plan sponsor)",
        RecipientCategory.PLAN_SPONSOR,
        "US",
        "",
        [DisclosurePurpose.PLAN_ADMINISTRATION],
        "Employer sponsoring the group plan: enrolment and premium data only.",
    ),
    (
        "Hartford Community Clinic",
        RecipientCategory.HEALTH_CARE,
        "US",
        "12 Elm Street, Hartford, CT 06105, United States",
        [DisclosurePurpose.TREATMENT, DisclosurePurpose.PAYMENT],
        "Care coordination with members' providers.",
    ),
    (
        "Connecticut Insurance Department",
        RecipientCategory.OVERSIGHT,
        "US",
        "153 Market Street, Hartford, CT 06103, United States",
        [DisclosurePurpose.REQUIRED_BY_LAW],
        "State oversight of health plans.",
    ),
    (
        "Superior Court of Connecticut",
        RecipientCategory.COURT,
        "US",
        "95 Washington Street, Hartford, CT 06106, United States",
        [DisclosurePurpose.LEGAL_PROCESS],
        "Court orders and subpoenas.",
    ),
]


def load() -> None:
    officer = User.objects.filter(staff_role=User.StaffRole.PRIVACY_OFFICER).first()
    if officer is None:
        return
    for name, category, country, address, purposes, description in RECIPIENTS:
        Recipient.objects.get_or_create(
            name=name,
            defaults={
                "category": category,
                "country": country,
                "address": address,
                "purposes": [str(purpose) for purpose in purposes],
                "description": description,
                "added_by": officer,
            },
        )
    notice, created = Notice.objects.get_or_create(
        revision_date=REVISION,
        defaults={
            "effective_date": REVISION,
            "material": True,
            "status": Notice.Status.PUBLISHED,
            "drafted_by": officer,
            "published_by": officer,
            "published_at": timezone.make_aware(timezone.datetime(2025, 12, 1, 9, 0)),
        },
    )
    if created:
        for language, fields in TEXTS.items():
            NoticeText.objects.create(notice=notice, language=language, **fields)
