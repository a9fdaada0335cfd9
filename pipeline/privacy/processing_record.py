"""The record of processing activities (GDPR art. 30), generated from the schemas and the settings.

The categories of data are the fields of :class:`schemas.referral.Referral` (walked
from the model itself), the retention periods are those of ``RetentionSettings`` in
force, and the recipients are the carriers of the directory: the record cannot
drift from what the code stores, keeps and sends.
"""

from __future__ import annotations

from pydantic import BaseModel

from pipeline.settings import Settings
from schemas.directory import Directory
from schemas.referral import Referral

CATEGORY_OF_MODEL_FR: dict[str, str] = {
    "Pupil": "Identité et adresse de l'élève (mineur)",
    "Guardian": "Responsables légaux : identité et coordonnées",
    "Referrer": "Professionnel qui oriente : identité, courriel professionnel, classe",
    "FamilyAgreements": "Accords et signature de la famille",
    "Referral": "Scolarité et besoins d'accompagnement",
}
"""French heading of each model of the referral (a model missing here is listed under its class name)."""
PURPOSES_FR = (
    "Orienter les élèves repérés par l'école vers un Contrat local d'accompagnement à la scolarité (CLAS) "
    "qui dessert leur école ou leur quartier et a des places.",
    "Permettre à l'équipe de la Ville de vérifier les fiches illisibles ou incomplètes.",
    "Établir les bilans annuels anonymes du dispositif (nombre d'orientations par structure et par issue).",
)


def _fields(model: type[BaseModel]) -> dict[str, list[str]]:
    """Model name → its leaf field names, walking nested models (tuples and optionals included)."""
    out: dict[str, list[str]] = {}

    def walk(m: type[BaseModel]) -> None:
        leaves = out.setdefault(m.__name__, [])
        for name, info in m.model_fields.items():
            nested = [a for a in _args(info.annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
            if nested:
                for sub in nested:
                    if sub.__name__ not in out:
                        walk(sub)
            else:
                leaves.append(name)

    walk(model)
    return out


def _args(annotation: object) -> list[object]:
    from typing import get_args

    args = list(get_args(annotation))
    return [annotation] if not args else [x for a in args for x in _args(a)]


def record_of_processing(settings: Settings, directory: Directory) -> str:
    """The record of processing as Markdown (French), for the city's data protection officer.

    Args:
        settings: Settings in force (retention periods, school year).
        directory: Schools and carriers (the recipients).

    Returns:
        The Markdown text.
    """
    r = settings.retention
    lines = ["# Registre des activités de traitement — fiches d'orientation CLAS", "",
             "*Article 30 du RGPD. Document généré par `clas-referrals record-of-processing` à partir du code "
             "(schémas et réglages en vigueur) : il ne peut pas diverger de ce que le logiciel conserve.*", "",
             "## Responsable du traitement", "", f"Commune : {directory.city} — service de la réussite éducative.", "",
             "## Finalités", ""]
    lines += [f"- {p}" for p in PURPOSES_FR]
    lines += ["", "Base légale : mission d'intérêt public (art. 6.1.e) ; accord écrit de la famille recueilli "
              "sur la fiche (cases d'accord et signature obligatoires).", "",
              "## Personnes concernées", "", "- Élèves mineurs orientés vers un CLAS ;",
              "- leurs responsables légaux ;", "- les professionnels de l'éducation qui les orientent.", "",
              "## Catégories de données", ""]
    for model, names in _fields(Referral).items():
        if names:
            lines.append(f"- **{CATEGORY_OF_MODEL_FR.get(model, model)}** : {', '.join(f'`{n}`' for n in names)}")
    lines += ["", "Aucune donnée de santé ni de diagnostic : la fiche n'a pas de champ pour cela. Les originaux "
              "reçus (PDF, scans) sont conservés pour la vérification, sous leur empreinte SHA-256.", "",
              "## Destinataires", "",
              "- L'équipe de la Ville chargée des orientations (bureau de vérification, comptes nominatifs).",
              "- La seule structure vers laquelle l'élève est orienté, pour sa propre file :", ""]
    lines += [f"  - {c.name} ({c.kind.value})" for c in directory.carriers]
    lines += ["- L'enseignant(e) qui a orienté l'élève (adresse de la fiche), seulement si son établissement l'a "
              "demandé : un avis de suite avec les initiales de l'élève, sa classe, la structure et la suite "
              "donnée (inscription, liste d'attente, refus), rien d'autre.",
              "- La CAF et les réunions du réseau : un bilan annuel en nombres seulement (aucun nombre de 1 à 4 "
              "affiché)."]
    lines += ["", "Aucun transfert hors de l'Union européenne.", "",
              "## Durées de conservation", "",
              f"- Fichiers d'origine : {r.originals_days} jours après la décision (orientation, liste d'attente, "
              "refus, doublon).",
              f"- Fichiers en quarantaine et doublons : {r.quarantine_days} jours après réception ; de même pour "
              "le courriel brut d'un message mis en quarantaine (illisible, ou dont une pièce a été refusée), "
              "gardé tel que reçu pour que le bureau puisse demander à l'école de le renvoyer ; il est effacé "
              "aussi avec l'élève dont il porte une fiche, sauf s'il porte d'autres pièces : l'effacement le "
              "signale alors pour qu'une personne s'en occupe.",
              f"- Messages classés dans la boîte partagée (« {settings.mail.processed_folder} », "
              f"« {settings.mail.quarantine_folder} ») : le logiciel ne les supprime pas ; leur durée de "
              "conservation est celle de la messagerie de la Ville, à fixer par elle (ils portent les mêmes fiches).",
              f"- Fiches non suivies d'une inscription : fin de l'année scolaire ({r.school_year_end_day:02d}/"
              f"{r.school_year_end_month:02d}) + {r.grace_days} jours, puis suppression complète (données, fichiers, "
              "lectures, vérifications).",
              "- Seuls des comptes anonymes (par année et par issue) sont gardés après suppression.",
              "- Application : `clas-referrals purge` et chaque exécution nocturne.", "",
              "## Droits des familles", "",
              "- Accès : `clas-referrals subject-access` exporte tout ce qui est détenu sur un élève "
              "(données, fichiers, journal).",
              "- Effacement : `clas-referrals erase` supprime tout, partout ; les deux actions sont journalisées.", "",
              "## Sécurité", "",
              "- Base de données et fichiers lisibles par leur seul propriétaire (0600/0700).",
              "- Aucun nom, adresse ou téléphone dans les journaux ni dans les comptes d'exécution.",
              "- Doublons d'élèves détectés par une empreinte HMAC-SHA-256 à clé secrète, sans index nominatif.",
              "- Accès au bureau de vérification par rôle (Ville, structure) ; mots de passe argon2, d'au moins 12 "
              "caractères et non communs (zxcvbn) ; connexions freinées puis bloquées après des échecs répétés ; "
              "sessions côté serveur, révoquées à la déconnexion et après inactivité.",
              f"- Lecture de chaque document bornée ({settings.limits.document_timeout_s:g} s, "
              f"{settings.limits.document_memory_mib} Mio) dans un processus séparé.", ""]
    return "\n".join(lines)
