"""The clinic's prompt catalog: every sentence the IVR may play, per language, as text.

The TTS builder turns each :class:`PromptText` into a sound file at :func:`prompt_name`, and the
interpreter plays exactly those names, so the two cannot drift apart: the interpreter's plan
(:mod:`ivr.plan`) refuses to compile a key that is not in this catalog.

Keys are stable identifiers (they are file names):

``language_menu``  this language's line of the language menu ("Українська — натисніть 1")
``welcome``        "<clinic name> welcomes you"
``emergency``      the emergency notice from the config (call 103/112)
``menu_<id>``      each menu's prompt from the config
``invalid``        invalid choice
``no_input``       nothing was pressed
``queue_<id>``     "connecting you to <queue name>"
``closed``         the clinic is closed, with the weekly hours in words
``holiday_<yyyymmdd>``  today's holiday and its hours (played before ``closed``)
``info_hours``, ``info_address``, ``service_<id>``  the self-service answers
``info_more``      "press 0 for an operator, any other key for the main menu, or hang up"
``goodbye``
``survey_offer``, ``survey_csat``, ``survey_nps``, ``survey_thanks``  the post-call survey
                   (only when a queue's ``survey`` is not ``off``)
``complaint_offer``, ``complaint_record``, ``complaint_confirm``, ``complaint_saved``  the
                   complaint route's voice message (only with ``complaints.voice_message``)
``reminder_doctor_<id>``, ``reminder_route_<id>``, ``reminder_on``, ``reminder_at``,
``month_<1..12>``, ``reminder_keys``, ``reminder_confirmed``, ``reminder_cancelled``
                   the appointment reminder call (only with ``reminders.enabled``;
                   docs/reminders.md)
``callback_reason_<reason>``, ``callback_queue_<id>``, ``callback_speaks_<language>``,
``callback_number_ends``, ``callback_minutes_ago``  the operator's whisper, and
``callback_greeting`` the patient's greeting, and ``callback_confirm`` the key that puts
                   them through (with ``callbacks.confirm_key``), of the callback call
                   (ivr.callback_call; only with ``callbacks.enabled``)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clinicall.ivr import spoken
from clinicall.routing.hours import OpeningHours
from clinicall.routing.wait_estimate import RANGE_BOUNDS_MIN
from clinicall.settings.models import WEEKDAYS, ClinicConfig, Doctor, Language, Service

ROOT = "clinicall"

LANGUAGE_MENU = "language_menu"
WELCOME = "welcome"
EMERGENCY = "emergency"
INVALID = "invalid"
NO_INPUT = "no_input"
CLOSED = "closed"
INFO_HOURS = "info_hours"
INFO_ADDRESS = "info_address"
INFO_MORE = "info_more"
GOODBYE = "goodbye"
SURVEY_OFFER = "survey_offer"
SURVEY_CSAT = "survey_csat"
SURVEY_NPS = "survey_nps"
SURVEY_THANKS = "survey_thanks"
SURVEY_KEYS = (SURVEY_OFFER, SURVEY_CSAT, SURVEY_NPS, SURVEY_THANKS)
REMINDER_ON = "reminder_on"
REMINDER_AT = "reminder_at"
REMINDER_KEYS = "reminder_keys"
REMINDER_CONFIRMED = "reminder_confirmed"
REMINDER_CANCELLED = "reminder_cancelled"
#: "This call may be recorded" (``recordings.consent``), played before the queue.
RECORDING_CONSENT = "recording_consent"
#: The complaint route's voice message (``complaints.voice_message``; ivr.voice_message).
COMPLAINT_OFFER = "complaint_offer"
COMPLAINT_RECORD = "complaint_record"
COMPLAINT_CONFIRM = "complaint_confirm"
COMPLAINT_SAVED = "complaint_saved"
_COMPLAINT: dict[str, dict[str, str]] = {
    COMPLAINT_OFFER: {
        "uk": "Щоб залишити голосове повідомлення зі скаргою, натисніть 1. Щоб поговорити з "
        "оператором, натисніть 2 або залишайтеся на лінії.",
        "ru": "Чтобы оставить голосовое сообщение с жалобой, нажмите 1. Чтобы поговорить с "
        "оператором, нажмите 2 или оставайтесь на линии.",
        "en": "To leave a voice message about your complaint, press 1. To speak to an "
        "operator, press 2 or stay on the line.",
    },
    COMPLAINT_RECORD: {
        "uk": "Говоріть після сигналу. Закінчивши, натисніть решітку.",
        "ru": "Говорите после сигнала. Закончив, нажмите решётку.",
        "en": "Please speak after the tone. When you have finished, press the hash key.",
    },
    COMPLAINT_CONFIRM: {
        "uk": "Щоб зберегти повідомлення, натисніть 1. Щоб записати його знову, натисніть 2.",
        "ru": "Чтобы сохранить сообщение, нажмите 1. Чтобы записать его заново, нажмите 2.",
        "en": "To keep your message, press 1. To record it again, press 2.",
    },
    COMPLAINT_SAVED: {
        "uk": "Дякуємо. Вашу скаргу зареєстровано, ми відповімо вам найближчим часом.",
        "ru": "Спасибо. Ваша жалоба зарегистрирована, мы ответим вам в ближайшее время.",
        "en": "Thank you. Your complaint is registered and we will reply to you soon.",
    },
}
# The in-queue callback offer (docs/callbacks.md, "The offer in the queue").
QUEUE_POSITION = "queue_position"
CALLBACK_OFFER = "callback_offer"
CALLBACK_SAME_NUMBER = "callback_same_number"
CALLBACK_ENTER_NUMBER = "callback_enter_number"
CALLBACK_BAD_NUMBER = "callback_bad_number"
CALLBACK_CONFIRMED = "callback_confirmed"
CALLBACK_NOT_BOOKED = "callback_not_booked"
# The callback call (ivr.callback_call): the operator's whisper, the patient's greeting.
CALLBACK_NUMBER_ENDS = "callback_number_ends"
CALLBACK_MINUTES_AGO = "callback_minutes_ago"
CALLBACK_GREETING = "callback_greeting"
CALLBACK_CONFIRM = "callback_confirm"


@dataclass(frozen=True, slots=True)
class PromptText:
    key: str
    language: str
    text: str


def prompt_name(language: str, key: str) -> str:
    """The sound name the engine plays (relative to its sound directory, no extension)."""
    return f"{ROOT}/{language}/{key}"


def menu_key(menu_id: str) -> str:
    return f"menu_{menu_id}"


def queue_key(queue_id: str) -> str:
    return f"queue_{queue_id}"


def service_key(service_id: str) -> str:
    return f"service_{service_id}"


def reminder_doctor_key(doctor_id: str) -> str:
    return f"reminder_doctor_{doctor_id}"


def reminder_route_key(route_id: str) -> str:
    return f"reminder_route_{route_id}"


def month_key(month: int) -> str:
    return f"month_{month}"


def callback_reason_key(reason: str) -> str:
    return f"callback_reason_{reason}"


def callback_queue_key(queue_id: str) -> str:
    return f"callback_queue_{queue_id}"


def callback_speaks_key(language: str) -> str:
    return f"callback_speaks_{language}"


def holiday_key(day: date) -> str:
    return f"holiday_{day:%Y%m%d}"


# Fixed sentences, per language.
_FIXED: dict[str, dict[str, str]] = {
    INVALID: {"uk": "Невірний вибір.", "ru": "Неверный выбор.", "en": "Invalid choice."},
    NO_INPUT: {
        "uk": "Ви нічого не обрали.",
        "ru": "Вы ничего не выбрали.",
        "en": "We did not hear your choice.",
    },
    INFO_MORE: {
        "uk": "Щоб поговорити з оператором, натисніть 0. Щоб повернутися до головного меню, "
        "натисніть будь-яку іншу клавішу. Або просто покладіть слухавку.",
        "ru": "Чтобы поговорить с оператором, нажмите 0. Чтобы вернуться в главное меню, "
        "нажмите любую другую клавишу. Или просто положите трубку.",
        "en": "To speak to an operator, press 0. To return to the main menu, press any other "
        "key. Or simply hang up.",
    },
    GOODBYE: {
        "uk": "Дякуємо за дзвінок. До побачення.",
        "ru": "Спасибо за звонок. До свидания.",
        "en": "Thank you for calling. Goodbye.",
    },
}

# The post-call survey (docs/kpi.md, Survey): CSAT 1-5, NPS 0-10 ("1" "0" for 10).
_SURVEY: dict[str, dict[str, str]] = {
    SURVEY_OFFER: {
        "uk": "Після розмови ми поставимо два короткі запитання про якість обслуговування. "
        "Щоб взяти участь, натисніть 1.",
        "ru": "После разговора мы зададим два коротких вопроса о качестве обслуживания. "
        "Чтобы принять участие, нажмите 1.",
        "en": "After the call we will ask two short questions about our service. "
        "To take part, press 1.",
    },
    SURVEY_CSAT: {
        "uk": "Оцініть, будь ласка, розмову від 1 до 5, де 5 — відмінно.",
        "ru": "Оцените, пожалуйста, разговор от 1 до 5, где 5 — отлично.",
        "en": "Please rate the call from 1 to 5, where 5 is excellent.",
    },
    SURVEY_NPS: {
        "uk": "Наскільки ймовірно, що ви порекомендуєте нашу клініку знайомим, від 0 до 10? "
        "Для 10 натисніть 1 і 0. Після оцінки натисніть решітку.",
        "ru": "Насколько вероятно, что вы порекомендуете нашу клинику знакомым, от 0 до 10? "
        "Для 10 нажмите 1 и 0. После оценки нажмите решётку.",
        "en": "How likely are you to recommend our clinic to a friend, from 0 to 10? "
        "For 10, press 1 and 0. Then press the hash key.",
    },
    SURVEY_THANKS: {
        "uk": "Дякуємо за ваші відповіді. До побачення.",
        "ru": "Спасибо за ваши ответы. До свидания.",
        "en": "Thank you for your answers. Goodbye.",
    },
}

# The appointment reminder (docs/reminders.md): who, what, when, then the keys.
_REMINDER: dict[str, dict[str, str]] = {
    REMINDER_ON: {"uk": "Дата:", "ru": "Дата:", "en": "on"},
    REMINDER_AT: {"uk": "о", "ru": "в", "en": "at"},
    REMINDER_KEYS: {
        "uk": "Щоб підтвердити візит, натисніть 1. Щоб скасувати, натисніть 2. "
        "Щоб поговорити з оператором, натисніть 0.",
        "ru": "Чтобы подтвердить визит, нажмите 1. Чтобы отменить, нажмите 2. "
        "Чтобы поговорить с оператором, нажмите 0.",
        "en": "To confirm the visit, press 1. To cancel it, press 2. "
        "To speak to an operator, press 0.",
    },
    REMINDER_CONFIRMED: {"uk": "Дякуємо, візит підтверджено. До побачення.",
                         "ru": "Спасибо, визит подтверждён. До свидания.",
                         "en": "Thank you, your visit is confirmed. Goodbye."},
    REMINDER_CANCELLED: {"uk": "Візит скасовано. Дякуємо, що попередили. До побачення.",
                         "ru": "Визит отменён. Спасибо, что предупредили. До свидания.",
                         "en": "Your visit is cancelled. Thank you for letting us know. Goodbye."},
}  # fmt: skip
_REMINDER_DOCTOR = {"uk": "Вас вітає {clinic}. Нагадуємо про ваш запис до: {doctor}.",
                    "ru": "Вас приветствует {clinic}. Напоминаем о вашей записи к: {doctor}.",
                    "en": "This is {clinic}. A reminder of your appointment with {doctor}."}
_REMINDER_ROUTE = {"uk": "Напрям: {name}.", "ru": "Направление: {name}.", "en": "{name}."}
#: Month names as a date says them ("5 грудня", "5 декабря", "December 5").
_MONTHS = {
    "uk": ("січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня",
           "вересня", "жовтня", "листопада", "грудня"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
           "сентября", "октября", "ноября", "декабря"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}

# Sentences with a slot, per language.
_LANGUAGE_LINE = {"uk": "Українська — натисніть {n}.", "ru": "Русский — нажмите {n}.",
                  "en": "English — press {n}."}  # fmt: skip
_WELCOME = {"uk": "Вас вітає {name}.", "ru": "Вас приветствует {name}.", "en": "Welcome to {name}."}
_QUEUE = {
    "uk": "З'єднуємо вас: {name}. Будь ласка, залишайтеся на лінії.",
    "ru": "Соединяем вас: {name}. Пожалуйста, оставайтесь на линии.",
    "en": "Connecting you to {name}. Please stay on the line.",
}
_HOURS = {"uk": "Наш графік роботи: {hours}.", "ru": "Наш график работы: {hours}.",
          "en": "Our opening hours: {hours}."}  # fmt: skip
_CLOSED = {
    "uk": "Зараз клініка зачинена. {hours} Будь ласка, зателефонуйте в робочий час.",
    "ru": "Сейчас клиника закрыта. {hours} Пожалуйста, позвоните в рабочее время.",
    "en": "The clinic is closed now. {hours} Please call again during opening hours.",
}
_ADDRESS = {"uk": "Наша адреса: {address}.", "ru": "Наш адрес: {address}.",
            "en": "Our address: {address}."}  # fmt: skip
_HOLIDAY_CLOSED = {"uk": "Сьогодні {name}, клініка не працює.",
                   "ru": "Сегодня {name}, клиника не работает.",
                   "en": "Today is {name}; the clinic is closed."}  # fmt: skip
_HOLIDAY_OPEN = {"uk": "Сьогодні {name}, клініка працює {hours}.",
                 "ru": "Сегодня {name}, клиника работает {hours}.",
                 "en": "Today is {name}; the clinic is open {hours}."}  # fmt: skip
_HOLIDAY_UNNAMED = {"uk": "святковий день", "ru": "праздничный день", "en": "a holiday"}
_SERVICE = {
    "uk": ("Вартість — {price} {currency}.", "Тривалість — {minutes}.", "Підготовка: {prep}",
           "Приймає: {doctors}.", "Приймають: {doctors}.", "Апарат: {equipment}."),
    "ru": ("Стоимость — {price} {currency}.", "Длительность — {minutes}.", "Подготовка: {prep}",
           "Принимает: {doctors}.", "Принимают: {doctors}.", "Аппарат: {equipment}."),
    "en": ("Price: {price} {currency}.", "Duration: {minutes}.", "Preparation: {prep}",
           "Doctor: {doctors}.", "Doctors: {doctors}.", "Equipment: {equipment}."),
}  # fmt: skip
_MINUTES = {"uk": ("хвилина", "хвилини", "хвилин"), "ru": ("минута", "минуты", "минут"),
            "en": ("minute", "minutes", "minutes")}  # fmt: skip


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _weekly_words(config: ClinicConfig, language: Language) -> str:
    hours = OpeningHours.from_config(config.hours, config.clinic.zone)
    return spoken.weekly(language, hours.weekly)


def _doctor_line(language: Language, doctor: Doctor) -> str:
    days = spoken.weekdays(language, [WEEKDAYS.index(d) for d in doctor.days])
    sep = ", " if language == "en" else " — "
    return f"{doctor.name[language]}{sep}{days}"


def service_text(config: ClinicConfig, language: Language, service: Service) -> str:
    """Name, price, duration, preparation, doctors and their days, equipment."""
    price, duration, prep, one_doctor, doctors, equipment = _SERVICE[language]
    lang = language
    parts = [
        _sentence(service.name[lang]),
        price.format(price=service.price, currency=config.clinic.currency[lang]),
        duration.format(minutes=f"{service.duration_min} "
                        f"{spoken.plural(lang, service.duration_min, _MINUTES[lang])}"),
        prep.format(prep=_sentence(service.preparation[lang])),
    ]  # fmt: skip
    if service.doctors:
        missing = [d for d in service.doctors if d not in config.doctors]
        if missing:
            raise ValueError(f"service names unknown doctors: {missing}")
        lines = "; ".join(_doctor_line(lang, config.doctors[d]) for d in service.doctors)
        parts.append((one_doctor if len(service.doctors) == 1 else doctors).format(doctors=lines))
    if service.equipment:
        parts.append(equipment.format(equipment=service.equipment))
    return " ".join(parts)


def _holiday_texts(config: ClinicConfig, language: Language) -> list[PromptText]:
    out = []
    for holiday in config.hours.holidays:
        name = holiday.name[language] if holiday.name else _HOLIDAY_UNNAMED[language]
        if holiday.hours:
            spans = OpeningHours.from_config(config.hours, config.clinic.zone).intervals_on(
                holiday.date
            )
            text = _HOLIDAY_OPEN[language].format(
                name=name, hours=spoken.intervals(language, spans)
            )
        else:
            text = _HOLIDAY_CLOSED[language].format(name=name)
        out.append(PromptText(holiday_key(holiday.date), language, text))
    return out


def _catalog_for(config: ClinicConfig, language: Language) -> list[PromptText]:
    lang = language
    clinic = config.clinic
    weekly = _weekly_words(config, lang)
    hours = _HOURS[lang].format(hours=weekly)

    def p(key: str, text: str) -> PromptText:
        return PromptText(key, lang, text)

    out: list[PromptText] = []
    if len(config.languages) > 1:
        n = config.languages.index(lang) + 1
        out.append(p(LANGUAGE_MENU, _LANGUAGE_LINE[lang].format(n=n)))
    out += [
        p(WELCOME, _WELCOME[lang].format(name=clinic.name[lang])),
        p(EMERGENCY, config.ivr.emergency_notice[lang]),
    ]
    out += [p(menu_key(mid), m.prompt[lang]) for mid, m in config.ivr.menus.items()]
    out += [p(key, texts[lang]) for key, texts in _FIXED.items()]
    out += [
        p(queue_key(qid), _QUEUE[lang].format(name=q.name[lang]))
        for qid, q in config.queues.items()
    ]
    out += [
        p(CLOSED, _CLOSED[lang].format(hours=hours)),
        p(INFO_HOURS, hours),
        p(INFO_ADDRESS, _ADDRESS[lang].format(address=clinic.address[lang])),
    ]
    out += _holiday_texts(config, lang)
    out += [p(service_key(k), service_text(config, lang, s)) for k, s in config.services.items()]
    if survey_enabled(config):
        out += [p(key, texts[lang]) for key, texts in _SURVEY.items()]
    if config.reminders.enabled:
        out += _reminder_texts(config, lang)
    if config.callbacks.enabled:
        out += _callback_texts(lang) + _callback_call_texts(config, lang)
    return out


def _reminder_texts(config: ClinicConfig, language: Language) -> list[PromptText]:
    """The reminder call's prompts: one per doctor and per route (the specialty, named by
    its queue), the month names, the keys and the two answers."""
    clinic = config.clinic.name[language]
    out = [PromptText(key, language, texts[language]) for key, texts in _REMINDER.items()]
    out += [PromptText(reminder_doctor_key(did), language,
                       _REMINDER_DOCTOR[language].format(clinic=clinic, doctor=d.name[language]))
            for did, d in config.doctors.items()]  # fmt: skip
    out += [PromptText(reminder_route_key(rid), language, _REMINDER_ROUTE[language].format(
                name=config.queues[r.queue].name[language]))
            for rid, r in config.routes.items() if r.queue in config.queues]  # fmt: skip
    out += [PromptText(month_key(i), language, name)
            for i, name in enumerate(_MONTHS[language], 1)]  # fmt: skip
    return out


def wait_key(low_min: int, high_min: int | None) -> str:
    """The prompt that words an announced wait range (``routing.wait_estimate.WaitRange``)."""
    return f"wait_{low_min}_plus" if high_min is None else f"wait_{low_min}_{high_min}"


_CALLBACK: dict[str, dict[str, str]] = {
    QUEUE_POSITION: {"uk": "Ваше місце в черзі:", "ru": "Ваше место в очереди:",
                     "en": "Your place in the queue is"},
    CALLBACK_OFFER: {
        "uk": "Щоб ми передзвонили вам і ви зберегли своє місце в черзі, натисніть 1.",
        "ru": "Чтобы мы перезвонили вам и вы сохранили своё место в очереди, нажмите 1.",
        "en": "To be called back and keep your place in the queue, press 1.",
    },
    CALLBACK_SAME_NUMBER: {
        "uk": "Щоб ми передзвонили на номер, з якого ви телефонуєте, натисніть 1. "
        "Щоб ввести інший номер, натисніть 2.",
        "ru": "Чтобы мы перезвонили на номер, с которого вы звоните, нажмите 1. "
        "Чтобы ввести другой номер, нажмите 2.",
        "en": "To be called back on the number you are calling from, press 1. "
        "To enter another number, press 2.",
    },
    CALLBACK_ENTER_NUMBER: {
        "uk": "Введіть номер телефону і натисніть решітку.",
        "ru": "Введите номер телефона и нажмите решётку.",
        "en": "Enter the phone number, then press hash.",
    },
    CALLBACK_BAD_NUMBER: {
        "uk": "На цей номер ми не можемо передзвонити.",
        "ru": "На этот номер мы не можем перезвонить.",
        "en": "We cannot call this number back.",
    },
    CALLBACK_CONFIRMED: {
        "uk": "Дякуємо. Ми передзвонимо вам, щойно настане ваша черга. Можете покласти слухавку.",
        "ru": "Спасибо. Мы перезвоним вам, как только подойдёт ваша очередь. "
        "Можете положить трубку.",
        "en": "Thank you. We will call you back when your turn comes. You may hang up now.",
    },
    CALLBACK_NOT_BOOKED: {
        "uk": "Вибачте, зараз це неможливо. Будь ласка, залишайтеся на лінії.",
        "ru": "Извините, сейчас это невозможно. Пожалуйста, оставайтесь на линии.",
        "en": "Sorry, this is not possible right now. Please stay on the line.",
    },
}
_WAIT_UNDER = {"uk": "Орієнтовний час очікування: менше {high} хвилин.",
               "ru": "Ожидаемое время ожидания: меньше {high} минут.",
               "en": "The expected wait is less than {high} minutes."}
_WAIT_BETWEEN = {"uk": "Орієнтовний час очікування: від {low} до {high} хвилин.",
                 "ru": "Ожидаемое время ожидания: от {low} до {high} минут.",
                 "en": "The expected wait is {low} to {high} minutes."}
_WAIT_OVER = {"uk": "Орієнтовний час очікування: понад {low} хвилин.",
              "ru": "Ожидаемое время ожидания: более {low} минут.",
              "en": "The expected wait is more than {low} minutes."}


_CALLBACK_CALL: dict[str, dict[str, str]] = {
    CALLBACK_NUMBER_ENDS: {"uk": "Номер закінчується на", "ru": "Номер заканчивается на",
                           "en": "The number ends in"},
    CALLBACK_MINUTES_AGO: {"uk": "Хвилин від дзвінка:", "ru": "Минут с момента звонка:",
                           "en": "Minutes since the call:"},
    callback_reason_key("missed"): {"uk": "Зворотний дзвінок: пропущений виклик.",
                                    "ru": "Обратный звонок: пропущенный вызов.",
                                    "en": "A callback of a missed call."},
    callback_reason_key("requested"): {"uk": "Зворотний дзвінок на прохання пацієнта.",
                                       "ru": "Обратный звонок по просьбе пациента.",
                                       "en": "A callback the patient asked for."},
    callback_reason_key("manual"): {"uk": "Зворотний дзвінок, призначений персоналом.",
                                    "ru": "Обратный звонок, назначенный персоналом.",
                                    "en": "A callback booked by the staff."},
}  # fmt: skip
_CALLBACK_QUEUE = {"uk": "Тема: {name}.", "ru": "Тема: {name}.", "en": "Topic: {name}."}
_CALLBACK_SPEAKS = {
    "uk": {"uk": "Пацієнт говорить українською.", "ru": "Пацієнт говорить російською.",
           "en": "Пацієнт говорить англійською."},
    "ru": {"uk": "Пациент говорит по-украински.", "ru": "Пациент говорит по-русски.",
           "en": "Пациент говорит по-английски."},
    "en": {"uk": "The patient speaks Ukrainian.", "ru": "The patient speaks Russian.",
           "en": "The patient speaks English."},
}  # fmt: skip
_CALLBACK_GREETING = {
    "uk": "Вас вітає {clinic}, ми вам передзвонюємо. З вами на лінії оператор.",
    "ru": "Вас приветствует {clinic}, мы вам перезваниваем. С вами на линии оператор.",
    "en": "This is {clinic} calling you back. An operator is on the line for you.",
}


_CALLBACK_CONFIRM = {
    "uk": "Щоб поговорити з оператором, натисніть {key}.",
    "ru": "Чтобы поговорить с оператором, нажмите {key}.",
    "en": "To speak with the operator, press {key}.",
}


def _callback_call_texts(config: ClinicConfig, language: Language) -> list[PromptText]:
    """The callback call's whisper (to the operator) and greeting (to the patient)."""
    out = [PromptText(key, language, texts[language]) for key, texts in _CALLBACK_CALL.items()]
    out += [PromptText(callback_queue_key(qid), language,
                       _CALLBACK_QUEUE[language].format(name=q.name[language]))
            for qid, q in config.queues.items()]  # fmt: skip
    out += [PromptText(callback_speaks_key(lang), language, _CALLBACK_SPEAKS[language][lang])
            for lang in config.languages]  # fmt: skip
    out.append(PromptText(CALLBACK_GREETING, language, _CALLBACK_GREETING[language].format(
        clinic=config.clinic.name[language])))
    if config.callbacks.confirm_key is not None:
        out.append(PromptText(CALLBACK_CONFIRM, language, _CALLBACK_CONFIRM[language].format(
            key=config.callbacks.confirm_key)))
    return out


def _callback_texts(language: Language) -> list[PromptText]:
    """The offer's sentences and one per announced wait range (``RANGE_BOUNDS_MIN``)."""
    out = [PromptText(key, language, texts[language]) for key, texts in _CALLBACK.items()]
    low = 0
    for high in RANGE_BOUNDS_MIN:
        words = _WAIT_UNDER if low == 0 else _WAIT_BETWEEN
        out.append(PromptText(wait_key(low, high), language,
                              words[language].format(low=low, high=high)))
        low = high
    out.append(PromptText(wait_key(low, None), language, _WAIT_OVER[language].format(low=low)))
    return out


def survey_enabled(config: ClinicConfig) -> bool:
    """Whether any queue runs the post-call survey (its prompts are then in the catalog)."""
    return any(q.survey != "off" for q in config.queues.values())


def catalog(config: ClinicConfig) -> list[PromptText]:
    """Every clinic prompt the IVR may play, for each of the clinic's languages."""
    prompts = [prompt for lang in config.languages for prompt in _catalog_for(config, lang)]
    consent = config.recordings.consent if config.recordings.enabled else None
    if consent:
        prompts += [PromptText(RECORDING_CONSENT, lang, consent[lang])
                    for lang in config.languages if lang in consent]
    if config.complaints.voice_message is not None:
        prompts += [PromptText(key, lang, texts[lang])
                    for lang in config.languages for key, texts in _COMPLAINT.items()]
    return prompts
