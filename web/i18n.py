"""The console's words in Ukrainian, Russian and English: one catalogue, one lookup.

Every label a page or its script shows is a key here with all three languages (a test checks
that none is missing or empty).  The language of a request is the user's choice (the
``clinicall_lang`` cookie, set by ``/language``), else the clinic's ``default_language``.
Scripts get the words they need in a ``data-words`` attribute (``words_json``).
"""

from __future__ import annotations

import json
from typing import Literal

from aiohttp import web

from clinicall.web.keys import CONFIG

Lang = Literal["uk", "ru", "en"]
LANGUAGES: tuple[Lang, ...] = ("uk", "ru", "en")
LANG_COOKIE = "clinicall_lang"

CATALOGUE: dict[str, dict[Lang, str]] = {
    # frame, login, refusals
    "log_in": {"uk": "Увійти", "ru": "Войти", "en": "Log in"},
    "log_out": {"uk": "Вийти", "ru": "Выйти", "en": "Log out"},
    "sign_out_everywhere": {"uk": "Вийти всюди", "ru": "Выйти везде",
                            "en": "Sign out everywhere"},
    "user_name": {"uk": "Ім'я користувача", "ru": "Имя пользователя", "en": "User name"},
    "password": {"uk": "Пароль", "ru": "Пароль", "en": "Password"},
    "wrong_password": {"uk": "Неправильне ім'я користувача або пароль.",
                       "ru": "Неверное имя пользователя или пароль.",
                       "en": "Wrong user name or password."},
    "too_many": {"uk": "Забагато невдалих спроб. Спробуйте через {n} с.",
                 "ru": "Слишком много неудачных попыток. Попробуйте через {n} с.",
                 "en": "Too many failed attempts. Try again in {n} seconds."},
    "not_done": {"uk": "Не виконано", "ru": "Не выполнено", "en": "Not done"},
    "back_to_dashboard": {"uk": "Назад до панелі", "ru": "Назад к панели",
                          "en": "Back to the dashboard"},
    "refused_other_site": {"uk": "Відхилено: запит надіслано з іншого сайту.",
                           "ru": "Отклонено: запрос отправлен с другого сайта.",
                           "en": "Refused: this request was sent from another site."},
    "refused_csrf_token": {
        "uk": "Відхилено: захисного токена форми немає або він неправильний. Оновіть сторінку "
              "і спробуйте ще раз.",
        "ru": "Отклонено: защитного токена формы нет или он неверный. Обновите страницу и "
              "попробуйте ещё раз.",
        "en": "Refused: the form's security token is missing or wrong. Reload the page and "
              "try again."},
    "refused_login_form": {
        "uk": "Відхилено: форма входу застаріла або надіслана не з цього сайту. Відкрийте "
              "сторінку входу знову.",
        "ru": "Отклонено: форма входа устарела или отправлена не с этого сайта. Откройте "
              "страницу входа снова.",
        "en": "Refused: the login form has expired or was not sent from this site. Open the "
              "login page again."},
    "refused_needs_login": {"uk": "Відхилено: запит, що змінює дані, потребує входу.",
                            "ru": "Отклонено: запрос, изменяющий данные, требует входа.",
                            "en": "Refused: a state-changing request needs a login."},
    "bad_address": {"uk": "Неправильна адреса: {problem}.", "ru": "Неверный адрес: {problem}.",
                    "en": "Bad address: {problem}."},
    "plain_http": {
        "uk": "Увійти тут неможливо: сторінку відкрито через звичайний HTTP, а кукі консолі "
              "захищені (Secure, адреса не локальна), тож браузер їх не збереже. Відкрийте "
              "консоль через HTTPS (TLS-проксі перед нею) або запустіть її на 127.0.0.1 і "
              "користуйтеся нею на тій машині чи через SSH-тунель. Як саме — у README, "
              "розділ про продакшн.",
        "ru": "Войти здесь невозможно: страница открыта по обычному HTTP, а куки консоли "
              "защищены (Secure, адрес не локальный), поэтому браузер их не сохранит. Откройте "
              "консоль по HTTPS (TLS-прокси перед ней) или запустите её на 127.0.0.1 и "
              "пользуйтесь ею на этой машине или через SSH-туннель. Как именно — в README, "
              "раздел о продакшене.",
        "en": "Signing in cannot work here: this page came over plain HTTP, and the console's "
              "cookies are Secure (its address is not loopback), so your browser will not keep "
              "them. Open the console over HTTPS (a TLS reverse proxy in front of it), or run "
              "it on 127.0.0.1 and use it on that machine or through an SSH tunnel. The "
              "README's production section shows how."},
    "not_allowed": {"uk": "Заборонено", "ru": "Запрещено", "en": "Not allowed"},
    "role_may_not": {"uk": "Ваша роль ({role}) не може відкрити цю сторінку.",
                     "ru": "Ваша роль ({role}) не может открыть эту страницу.",
                     "en": "Your role ({role}) may not open this page."},
    "operator_hint": {"uk": "Оператори працюють на своїй сторінці та можуть відкрити табло.",
                      "ru": "Операторы работают на своей странице и могут открыть табло.",
                      "en": "Operators work at their desk and may open the wallboard."},
    "language": {"uk": "Мова", "ru": "Язык", "en": "Language"},
    # navigation
    "dashboard": {"uk": "Панель", "ru": "Панель", "en": "Dashboard"},
    "reports": {"uk": "Звіти", "ru": "Отчёты", "en": "Reports"},
    "wallboard": {"uk": "Табло", "ru": "Табло", "en": "Wallboard"},
    "my_desk": {"uk": "Моє робоче місце", "ru": "Моё рабочее место", "en": "My desk"},
    # wallboard
    "operators": {"uk": "Оператори", "ru": "Операторы", "en": "Operators"},
    "operator": {"uk": "Оператор", "ru": "Оператор", "en": "Operator"},
    "status": {"uk": "Стан", "ru": "Состояние", "en": "Status"},
    "reason": {"uk": "Причина", "ru": "Причина", "en": "Reason"},
    "for": {"uk": "Скільки", "ru": "Сколько", "en": "For"},
    "queues": {"uk": "Черги", "ru": "Очереди", "en": "Queues"},
    "queue": {"uk": "Черга", "ru": "Очередь", "en": "Queue"},
    "waiting": {"uk": "Чекають", "ru": "Ждут", "en": "Waiting"},
    "longest_wait": {"uk": "Найдовше очікування", "ru": "Дольше всех ждёт",
                     "en": "Longest wait"},
    "sl_today": {"uk": "Рівень сервісу сьогодні", "ru": "Уровень сервиса сегодня",
                 "en": "SL today"},
    "abandoned_today": {"uk": "Покинуті сьогодні", "ru": "Брошенные сегодня",
                        "en": "Abandoned today"},
    "missed_today": {"uk": "Пропущені сьогодні", "ru": "Пропущенные сегодня",
                     "en": "Missed today"},
    "live": {"uk": "наживо", "ru": "вживую", "en": "live"},
    "stale": {"uk": "застаріло", "ru": "устарело", "en": "stale"},
    "stale_no_pbx": {"uk": "застаріло: немає зв'язку з АТС", "ru": "устарело: нет связи с АТС",
                     "en": "stale: no PBX link"},
    "connecting": {"uk": "з'єднання…", "ru": "соединение…", "en": "connecting…"},
    "updated": {"uk": "оновлено", "ru": "обновлено", "en": "updated"},
    "left": {"uk": "залишилось", "ru": "осталось", "en": "left"},
    "st_available": {"uk": "вільний", "ru": "свободен", "en": "available"},
    "st_ringing": {"uk": "дзвонить", "ru": "звонит", "en": "ringing"},
    "st_on_call": {"uk": "розмовляє", "ru": "разговаривает", "en": "on call"},
    "st_wrap_up": {"uk": "після дзвінка", "ru": "после звонка", "en": "wrap-up"},
    "st_paused": {"uk": "на паузі", "ru": "на паузе", "en": "paused"},
    "st_offline": {"uk": "не в мережі", "ru": "не в сети", "en": "offline"},
    # operator
    "incoming_call": {"uk": "Вхідний дзвінок", "ru": "Входящий звонок", "en": "Incoming call"},
    "on_the_line": {"uk": "На лінії", "ru": "На линии", "en": "On the line"},
    "number": {"uk": "Номер", "ru": "Номер", "en": "Number"},
    "name": {"uk": "Ім'я", "ru": "Имя", "en": "Name"},
    "route": {"uk": "Тема", "ru": "Тема", "en": "Route"},
    "ivr_path": {"uk": "Шлях у меню", "ru": "Путь в меню", "en": "IVR path"},
    "waited": {"uk": "Чекав", "ru": "Ждал", "en": "Waited"},
    "previous_calls": {"uk": "Попередні дзвінки (30 днів)", "ru": "Предыдущие звонки (30 дней)",
                       "en": "Previous calls (30 days)"},
    "none": {"uk": "немає", "ru": "нет", "en": "none"},
    "open_callbacks": {"uk": "Незакриті передзвони", "ru": "Незакрытые перезвоны",
                       "en": "Open callbacks"},
    "open_complaints": {"uk": "Відкриті скарги", "ru": "Открытые жалобы",
                        "en": "Open complaints"},
    "my_callbacks": {"uk": "Передзвони моїх черг", "ru": "Перезвоны моих очередей",
                     "en": "Callbacks of my queues"},
    "refresh": {"uk": "Оновити", "ru": "Обновить", "en": "Refresh"},
    "due": {"uk": "Коли", "ru": "Когда", "en": "Due"},
    "attempts": {"uk": "Спроби", "ru": "Попытки", "en": "Attempts"},
    "state": {"uk": "Стан", "ru": "Состояние", "en": "State"},
    "complaint": {"uk": "Скарга", "ru": "Жалоба", "en": "Complaint"},
    "callback": {"uk": "Передзвон", "ru": "Перезвон", "en": "Callback"},
    "after_the_call": {"uk": "Після дзвінка", "ru": "После звонка", "en": "After the call"},
    "what_was_call": {"uk": "Яким був дзвінок", "ru": "Каким был звонок",
                      "en": "What was the call"},
    "saved": {"uk": "збережено", "ru": "сохранено", "en": "saved"},
    "saving": {"uk": "зберігаю…", "ru": "сохраняю…", "en": "saving…"},
    "my_queues": {"uk": "Мої черги", "ru": "Мои очереди", "en": "My queues"},
    "logged_in": {"uk": "у черзі", "ru": "в очереди", "en": "logged in"},
    "logged_out": {"uk": "поза чергою", "ru": "вне очереди", "en": "logged out"},
    "queue_log_in": {"uk": "Увійти в чергу", "ru": "Войти в очередь", "en": "Log in"},
    "queue_log_out": {"uk": "Вийти з черги", "ru": "Выйти из очереди", "en": "Log out"},
    "pause": {"uk": "Пауза", "ru": "Пауза", "en": "Pause"},
    "resume": {"uk": "Продовжити", "ru": "Продолжить", "en": "Resume"},
    "paused": {"uk": "на паузі", "ru": "на паузе", "en": "paused"},
    "no_answer": {"uk": "немає відповіді", "ru": "нет ответа", "en": "no answer"},
    "no_operator_id": {"uk": "У конфігурації немає оператора з ідентифікатором {id}: ім'я "
                             "користувача оператора має бути його ідентифікатором.",
                       "ru": "В конфигурации нет оператора с идентификатором {id}: имя "
                             "пользователя оператора должно быть его идентификатором.",
                       "en": "No operator with the id {id} in the clinic config: an "
                             "operator's user name must be their operator id."},
    "no_controller": {"uk": "Консоль працює без контролера: вхід у черги недоступний.",
                      "ru": "Консоль работает без контроллера: вход в очереди недоступен.",
                      "en": "The console runs without the controller: queue login is "
                            "unavailable."},
    # reports
    "from": {"uk": "З", "ru": "С", "en": "From"},
    "to": {"uk": "По", "ru": "По", "en": "To"},
    "show": {"uk": "Показати", "ru": "Показать", "en": "Show"},
    "download": {"uk": "Завантажити", "ru": "Скачать", "en": "Download"},
    "time_zone": {"uk": "часовий пояс", "ru": "часовой пояс", "en": "time zone"},
    "calls": {"uk": "Дзвінки", "ru": "Звонки", "en": "Calls"},
    "missed": {"uk": "Пропущені", "ru": "Пропущенные", "en": "Missed"},
    "unreturned_title": {"uk": "Пропущені дзвінки без зворотного дзвінка",
                         "ru": "Пропущенные звонки без обратного звонка",
                         "en": "Missed calls not returned yet"},
    "when": {"uk": "Коли", "ru": "Когда", "en": "When"},
    "cause": {"uk": "Причина", "ru": "Причина", "en": "Cause"},
    "topic": {"uk": "Тема", "ru": "Тема", "en": "Topic"},
    "age": {"uk": "Давність", "ru": "Давность", "en": "Age"},
    "minutes": {"uk": "хв", "ru": "мин", "en": "min"},
    "chart_per_hour": {"uk": "Дзвінки та пропущені за годинами доби",
                       "ru": "Звонки и пропущенные по часам суток",
                       "en": "Calls and missed calls by hour of the day"},
    "chart_waits": {"uk": "Очікування прийнятих дзвінків по чергах",
                    "ru": "Ожидание принятых звонков по очередям",
                    "en": "Wait of answered calls per queue"},
    "chart_sl": {"uk": "Рівень сервісу по чергах за днями, %",
                 "ru": "Уровень сервиса по очередям по дням, %",
                 "en": "Service level per queue per day, %"},
    "chart_topics": {"uk": "Популярні теми", "ru": "Популярные темы",
                     "en": "Topics in demand"},
    "median_wait": {"uk": "Медіана, с", "ru": "Медиана, с", "en": "Median wait, s"},
    "p90_wait": {"uk": "90-й процентиль, с", "ru": "90-й процентиль, с",
                 "en": "90th percentile, s"},
    "longest_s": {"uk": "Найдовше, с", "ru": "Дольше всего, с", "en": "Longest, s"},
    "today": {"uk": "сьогодні", "ru": "сегодня", "en": "today"},
    "yesterday": {"uk": "вчора", "ru": "вчера", "en": "yesterday"},
    "this_week": {"uk": "цей тиждень", "ru": "эта неделя", "en": "this week"},
    "last_week": {"uk": "минулий тиждень", "ru": "прошлая неделя", "en": "last week"},
    "this_month": {"uk": "цей місяць", "ru": "этот месяц", "en": "this month"},
    "last_month": {"uk": "минулий місяць", "ru": "прошлый месяц", "en": "last month"},
    # reports: survey, demand, staffing (web/manager_analytics.py)
    "survey_title": {"uk": "Опитування після дзвінка", "ru": "Опрос после звонка",
                     "en": "Post-call survey"},
    "chart_csat": {"uk": "Оцінки задоволеності (CSAT 1–5)",
                   "ru": "Оценки удовлетворённости (CSAT 1–5)",
                   "en": "Satisfaction answers (CSAT 1–5)"},
    "k_due": {"uk": "Мали б опитати", "ru": "Следовало опросить", "en": "Due"},
    "k_response_rate": {"uk": "Частка відповідей", "ru": "Доля ответов",
                        "en": "Response rate"},
    "k_partial": {"uk": "Неповні", "ru": "Неполные", "en": "Partial"},
    "k_csat_mean": {"uk": "Середня оцінка CSAT", "ru": "Средняя оценка CSAT",
                    "en": "CSAT mean"},
    "k_nps_answers": {"uk": "Відповіді NPS", "ru": "Ответы NPS", "en": "NPS answers"},
    "k_nps": {"uk": "Індекс NPS", "ru": "Индекс NPS", "en": "NPS"},
    "demand_title": {"uk": "Попит за годинами тижня", "ru": "Спрос по часам недели",
                     "en": "Demand by hour of the week"},
    "heatmap_caption": {"uk": "Дзвінки за днем тижня та годиною (місцевий час)",
                        "ru": "Звонки по дню недели и часу (местное время)",
                        "en": "Calls by weekday and hour (local time)"},
    "wd_1": {"uk": "Пн", "ru": "Пн", "en": "Mon"},
    "wd_2": {"uk": "Вт", "ru": "Вт", "en": "Tue"},
    "wd_3": {"uk": "Ср", "ru": "Ср", "en": "Wed"},
    "wd_4": {"uk": "Чт", "ru": "Чт", "en": "Thu"},
    "wd_5": {"uk": "Пт", "ru": "Пт", "en": "Fri"},
    "wd_6": {"uk": "Сб", "ru": "Сб", "en": "Sat"},
    "wd_7": {"uk": "Нд", "ru": "Вс", "en": "Sun"},
    "weekday": {"uk": "День", "ru": "День", "en": "Day"},
    "hour": {"uk": "Година", "ru": "Час", "en": "Hour"},
    "staffing_title": {"uk": "Скільки операторів потрібно", "ru": "Сколько нужно операторов",
                       "en": "Operators needed"},
    "staffing_window": {"uk": "Прогноз за тими самими годинами тижня з {first} по {last}.",
                        "ru": "Прогноз по тем же часам недели с {first} по {last}.",
                        "en": "Forecast from the same hours of the week, {first} to {last}."},
    "staffing_model": {
        "uk": "Модель: дзвінки надходять випадково (Пуассон) з прогнозованою частотою; час "
              "обслуговування (розмова + післядзвінкова обробка) і терпіння пацієнтів "
              "експоненційні, терпіння оцінено за покинутими дзвінками; оператори працюють "
              "лише з цією чергою; кожна година стала. Ерланг A враховує, що пацієнти кладуть "
              "слухавку, Ерланг C — ні, тож радить більше. Червоним — години, де операторів "
              "менше, ніж радить Ерланг A; жовтим — де на одного чи більше зайвий. Далі: "
              "змініть розклад змін на червоні години і порівняйте за тиждень.",
        "ru": "Модель: звонки поступают случайно (Пуассон) с прогнозной частотой; время "
              "обслуживания (разговор + постобработка) и терпение пациентов экспоненциальны, "
              "терпение оценено по брошенным звонкам; операторы работают только с этой "
              "очередью; каждый час стационарен. Эрланг A учитывает, что пациенты кладут "
              "трубку, Эрланг C — нет, поэтому советует больше. Красным — часы, где "
              "операторов меньше, чем советует Эрланг A; жёлтым — где один или больше "
              "лишний. Дальше: измените график смен на красные часы и сравните через неделю.",
        "en": "Model: calls arrive at random (Poisson) at the forecast rate; handle time (talk "
              "+ wrap-up) and patients' patience are exponential, the patience fitted from "
              "the abandoned calls; operators serve this queue only; each hour is steady. "
              "Erlang A allows for patients hanging up, Erlang C does not and so advises "
              "more. Red: hours with fewer operators logged in than Erlang A advises; yellow: "
              "one or more beyond it. Next: move shifts onto the red hours and compare a "
              "week later."},
    "k_offered_per_h": {"uk": "Дзвінків за годину", "ru": "Звонков в час",
                        "en": "Calls per hour"},
    "k_aht_s": {"uk": "Сер. обслуговування", "ru": "Ср. обслуживание", "en": "AHT"},
    "k_agents_erlang_a": {"uk": "Потрібно (Ерланг A)", "ru": "Нужно (Эрланг A)",
                          "en": "Needed (Erlang A)"},
    "k_sl_erlang_a": {"uk": "Рівень сервісу (A)", "ru": "Уровень сервиса (A)",
                      "en": "Service level (A)"},
    "k_abandon_erlang_a": {"uk": "Покинуть (A)", "ru": "Бросят (A)", "en": "Abandon (A)"},
    "k_agents_erlang_c": {"uk": "Потрібно (Ерланг C)", "ru": "Нужно (Эрланг C)",
                          "en": "Needed (Erlang C)"},
    "k_logged_in": {"uk": "Були на зміні", "ru": "Были на смене", "en": "Logged in"},
    "k_staffed": {"uk": "Укомплектовано", "ru": "Укомплектовано", "en": "Staffed"},
    "staffed_under": {"uk": "замало", "ru": "мало", "en": "under"},
    "staffed_ok": {"uk": "достатньо", "ru": "достаточно", "en": "ok"},
    "staffed_over": {"uk": "забагато", "ru": "много", "en": "over"},
    # dashboard
    "now": {"uk": "Зараз", "ru": "Сейчас", "en": "Now"},
    "today_title": {"uk": "Сьогодні", "ru": "Сегодня", "en": "Today"},
    "queues_now": {"uk": "Черги зараз", "ru": "Очереди сейчас", "en": "Queues now"},
    "queues_today": {"uk": "Черги сьогодні", "ru": "Очереди сегодня", "en": "Queues today"},
    "no_live_feed": {"uk": "Немає живих даних від АТС.", "ru": "Нет живых данных от АТС.",
                     "en": "No live feed from the PBX."},
    "time_zone_cap": {"uk": "Часовий пояс", "ru": "Часовой пояс", "en": "Time zone"},
    "k_waiting": {"uk": "Чекають", "ru": "Ждут", "en": "Waiting"},
    "k_longest_wait": {"uk": "Найдовше очікування", "ru": "Дольше всех ждёт",
                       "en": "Longest wait"},
    "k_available": {"uk": "Вільні", "ru": "Свободны", "en": "Available"},
    "k_paused": {"uk": "На паузі", "ru": "На паузе", "en": "Paused"},
    "k_in_call": {"uk": "Розмовляють", "ru": "Разговаривают", "en": "In call"},
    # admin and own account
    "admin": {"uk": "Адміністрування", "ru": "Администрирование", "en": "Administration"},
    "users": {"uk": "Користувачі", "ru": "Пользователи", "en": "Users"},
    "role": {"uk": "Роль", "ru": "Роль", "en": "Role"},
    "active": {"uk": "Активний", "ru": "Активен", "en": "Active"},
    "yes": {"uk": "так", "ru": "да", "en": "yes"},
    "no": {"uk": "ні", "ru": "нет", "en": "no"},
    "sessions": {"uk": "Сеанси", "ru": "Сеансы", "en": "Sessions"},
    "change": {"uk": "Змінити", "ru": "Изменить", "en": "Change"},
    "disable": {"uk": "Вимкнути", "ru": "Отключить", "en": "Disable"},
    "enable": {"uk": "Увімкнути", "ru": "Включить", "en": "Enable"},
    "reset_password": {"uk": "Новий пароль", "ru": "Новый пароль", "en": "Reset password"},
    "add_user": {"uk": "Додати користувача", "ru": "Добавить пользователя", "en": "Add a user"},
    "add": {"uk": "Додати", "ru": "Добавить", "en": "Add"},
    "revoke": {"uk": "Завершити", "ru": "Завершить", "en": "Revoke"},
    "started": {"uk": "Почато", "ru": "Начат", "en": "Started"},
    "last_seen": {"uk": "Востаннє", "ru": "Последний раз", "en": "Last seen"},
    "expires": {"uk": "Спливає", "ru": "Истекает", "en": "Expires"},
    "my_account": {"uk": "Мій обліковий запис", "ru": "Моя учётная запись",
                   "en": "My account"},
    "current_password": {"uk": "Поточний пароль", "ru": "Текущий пароль",
                         "en": "Current password"},
    "new_password": {"uk": "Новий пароль", "ru": "Новый пароль", "en": "New password"},
    "repeat_password": {"uk": "Повторіть новий пароль", "ru": "Повторите новый пароль",
                        "en": "Repeat the new password"},
    "change_password": {"uk": "Змінити пароль", "ru": "Сменить пароль",
                        "en": "Change the password"},
    "done": {"uk": "Готово.", "ru": "Готово.", "en": "Done."},
    "password_changed": {"uk": "Пароль змінено; інші сеанси завершено.",
                         "ru": "Пароль изменён; другие сеансы завершены.",
                         "en": "Password changed; your other sessions are ended."},
    "wrong_current": {"uk": "Поточний пароль неправильний.", "ru": "Текущий пароль неверен.",
                      "en": "The current password is wrong."},
    "passwords_differ": {"uk": "Нові паролі не збігаються.", "ru": "Новые пароли не совпадают.",
                         "en": "The new passwords differ."},
    "weak_password": {"uk": "Пароль не підходить: {why}.", "ru": "Пароль не подходит: {why}.",
                      "en": "The password will not do: {why}."},
    "user_exists": {"uk": "Такий користувач уже є.", "ru": "Такой пользователь уже есть.",
                    "en": "That user already exists."},
    "no_such": {"uk": "Немає такого запису.", "ru": "Нет такой записи.",
                "en": "No such entry."},
    "not_yourself": {"uk": "Свій обліковий запис тут не змінюють.",
                     "ru": "Свою учётную запись здесь не меняют.",
                     "en": "Not your own account (use My account)."},
    "pw_short": {"uk": "щонайменше {n} символів (кілька слів — добрий пароль)",
                 "ru": "не меньше {n} символов (несколько слов — хороший пароль)",
                 "en": "at least {n} characters (a few words make a good one)"},
    "pw_common": {"uk": "це один з найпоширеніших паролів",
                  "ru": "это один из самых распространённых паролей",
                  "en": "it is one of the most common passwords"},
    "pw_name": {"uk": "він містить ім'я користувача", "ru": "он содержит имя пользователя",
                "en": "it contains the user name"},
    "pw_few": {"uk": "замало різних символів", "ru": "слишком мало разных символов",
               "en": "too few different characters"},
    "pw_sequence": {"uk": "це послідовність клавіш або цифр",
                    "ru": "это последовательность клавиш или цифр",
                    "en": "it is a keyboard or counting sequence"},
    # KPI columns
    "k_offered": {"uk": "Надійшло", "ru": "Поступило", "en": "Offered"},
    "k_answered": {"uk": "Прийнято", "ru": "Принято", "en": "Answered"},
    "k_abandoned": {"uk": "Покинуто", "ru": "Брошено", "en": "Abandoned"},
    "k_timeout": {"uk": "Вичерпано час", "ru": "Истекло время", "en": "Timed out"},
    "k_service_level": {"uk": "Рівень сервісу", "ru": "Уровень сервиса",
                        "en": "Service level"},
    "k_asa": {"uk": "Сер. очікування", "ru": "Ср. ожидание", "en": "ASA"},
    "k_wait_p90": {"uk": "Очікування p90", "ru": "Ожидание p90", "en": "Wait p90"},
    "k_inbound": {"uk": "Вхідні", "ru": "Входящие", "en": "Inbound calls"},
    "k_missed": {"uk": "Пропущені", "ru": "Пропущенные", "en": "Missed"},
    "k_unreturned": {"uk": "Без зворотного дзвінка", "ru": "Без обратного звонка",
                     "en": "Missed, not called back"},
    "k_missed_rate": {"uk": "Частка пропущених", "ru": "Доля пропущенных",
                      "en": "Missed rate"},
    "k_fcr": {"uk": "Вирішено з першого дзвінка", "ru": "Решено с первого звонка",
              "en": "First-contact resolution"},
    "k_dispositioned": {"uk": "Позначено операторами", "ru": "Отмечено операторами",
                        "en": "Marked by operators"},
    "k_repeat_24h_rate": {"uk": "Повторні за 24 год", "ru": "Повторные за 24 ч",
                          "en": "Repeat calls within 24 h"},
    # the callback figures (web/manager_analytics.py)
    "callbacks_title": {"uk": "Зворотні дзвінки", "ru": "Обратные звонки", "en": "Callbacks"},
    "k_jobs": {"uk": "Завдань", "ru": "Заданий", "en": "Jobs"},
    "k_first_attempt_p50": {"uk": "До першої спроби, медіана", "ru": "До первой попытки, медиана",
                            "en": "To the first attempt, median"},
    "k_first_attempt_p90": {"uk": "До першої спроби, 90-й перцентиль",
                            "ru": "До первой попытки, 90-й перцентиль",
                            "en": "To the first attempt, 90th percentile"},
    "k_attempts_per_job": {"uk": "Спроб на завдання", "ru": "Попыток на задание",
                           "en": "Attempts per job"},
    "k_success_rate": {"uk": "Успішних", "ru": "Успешных", "en": "Success rate"},
    "k_missed_unreturned": {"uk": "Не передзвонили вчасно", "ru": "Не перезвонили вовремя",
                            "en": "Missed calls not returned in time"},
    "k_cause": {"uk": "Причина", "ru": "Причина", "en": "Cause"},
    "k_appointments": {"uk": "Записів", "ru": "Записей", "en": "Appointments"},
    "k_result": {"uk": "Відповідь на нагадування", "ru": "Ответ на напоминание",
                 "en": "Reminder result"},
}


def tr(lang: str, key: str, **values: object) -> str:
    """The word for ``key`` in ``lang`` (KeyError for a key not in the catalogue)."""
    words = CATALOGUE[key]
    text = words[lang] if lang in words else words["en"]
    return text.format(**values) if values else text


def language_of(request: web.Request) -> Lang:
    chosen = request.cookies.get(LANG_COOKIE, "")
    for lang in LANGUAGES:
        if chosen == lang:
            return lang
    return request.app[CONFIG].default_language


def words_json(lang: str, keys: tuple[str, ...]) -> str:
    """The words a script needs, as JSON for a ``data-words`` attribute (escape it)."""
    return json.dumps({key: tr(lang, key) for key in keys}, ensure_ascii=False)
