package dev.flinkslm.screening.internal;

import org.apache.flink.annotation.Internal;

import java.util.List;

/**
 * Vocabulary and templates of the synthetic event generator. Templates use {@code {slot}}
 * placeholders filled by {@code SyntheticEventGenerator}; several phrasings per label so that a
 * model cannot learn one sentence per class. All names are invented.
 */
@Internal
public final class Phrasebook {

    private Phrasebook() {}

    /** Home country, currency and a city of an account profile. */
    public static final String[][] PROFILES = {
        {"DE", "EUR", "Hamburg"}, {"DE", "EUR", "Munich"}, {"FR", "EUR", "Lyon"}, {"NL", "EUR", "Rotterdam"},
        {"IT", "EUR", "Milan"}, {"ES", "EUR", "Valencia"}, {"GB", "GBP", "Manchester"}, {"GB", "GBP", "London"},
        {"US", "USD", "Chicago"}, {"US", "USD", "Austin"}, {"CH", "CHF", "Zurich"}, {"SE", "SEK", "Gothenburg"},
        {"PL", "PLN", "Krakow"}, {"SG", "SGD", "Singapore"}, {"JP", "JPY", "Osaka"}, {"CA", "CAD", "Toronto"},
        {"AU", "AUD", "Melbourne"}, {"HK", "HKD", "Hong Kong"}, {"IE", "EUR", "Dublin"}, {"AT", "EUR", "Graz"},
    };

    public static final List<String> FIRST_NAMES = List.of(
            "Anna", "Lukas", "Sofia", "Mateo", "Priya", "Kenji", "Olivia", "Jonas", "Amara", "Liam", "Chloe", "Tomasz",
            "Elif", "Noah", "Mei", "Rafael", "Ines", "Oskar", "Zara", "David");
    public static final List<String> LAST_NAMES = List.of(
            "Keller",
            "Moreau",
            "Rossi",
            "Novak",
            "Tanaka",
            "Okafor",
            "Lindqvist",
            "Brennan",
            "Silva",
            "Weber",
            "Haddad",
            "Kowalski",
            "Nguyen",
            "Fischer",
            "Costa",
            "Jensen",
            "Murphy",
            "Schmidt",
            "Yilmaz",
            "Park");
    public static final List<String> COMPANIES = List.of(
            "Nordlicht GmbH",
            "Blue Meadow Foods Ltd",
            "Quayside Logistics BV",
            "Arcadia Software SAS",
            "Hollow Pine Furniture",
            "Meridian Dental Practice",
            "Sunfield Energy AG",
            "Copperleaf Print Co",
            "Riverstone Architects",
            "Pelican Bay Hotels",
            "Granite Peak Outdoor",
            "Vela Marine Supplies",
            "Brightwater Utilities",
            "Harbor & Finch LLP",
            "Tidewell Insurance",
            "Kestrel Freight SpA");
    public static final List<String> MERCHANTS = List.of(
            "Amazonas Marketplace",
            "CityFresh Grocers",
            "RailEurope Tickets",
            "Gadget Corner",
            "PetPal Store",
            "Streamly Subscription",
            "HomeFix DIY",
            "Lumen Pharmacy",
            "Urban Bikes",
            "BookNook Online");
    public static final List<String> GOODS = List.of(
            "office chairs",
            "laptops",
            "printer toner",
            "pallets of flour",
            "steel fittings",
            "LED panels",
            "spare pump parts",
            "coffee beans",
            "packaging film",
            "safety gloves");
    public static final List<String> TICKERS =
            List.of("NRDX", "BLMF", "QSLG", "ARCS", "SNFE", "VELA", "KSTF", "TDWL", "GRPK", "MRDN");
    public static final List<String> BONDS =
            List.of("Bund 2034s", "BTP 2031s", "UST 10y", "Gilt 2029s", "OAT 2033s", "the SNFE 4.5% 2030s");
    public static final List<String> MONTHS = List.of(
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December");
    public static final List<String> SHELLS = List.of(
            "Golden Horizon Trading FZE",
            "Silver Dune General Trading",
            "Eastbridge Commodities Ltd",
            "Amber Route Holdings",
            "Caspian Gate Logistics",
            "Lotus Pier Import Export");
    public static final List<String> HUBS = List.of("Dubai", "Istanbul", "Hong Kong", "Almaty", "Yerevan", "Tbilisi");
    public static final String[][] SHELL_COUNTRIES = {{"AE"}, {"TR"}, {"HK"}, {"KZ"}, {"AM"}, {"GE"}};
    public static final List<String> SANCTIONED_PLACES =
            List.of("Crimea", "North Korea", "Syria", "Iran", "the occupied region", "Sevastopol port");
    public static final List<String> DESIGNATED = List.of(
            "a designated shipping company",
            "the listed oligarch's family office",
            "a sanctioned defence supplier",
            "the blocked state bank",
            "the designated tanker operator");

    public static final List<String> BENIGN_PAYMENTS = List.of(
            "Invoice {inv} {month} consulting services",
            "Rent {month} {year} flat {n}",
            "Salary {month} {company}",
            "Payment for order #{ord} {merchant}",
            "Electricity bill account {n} Brightwater Utilities",
            "Reimbursement travel expenses {city} trip",
            "School fees term {k} for {first}",
            "Transfer to own savings account",
            "Membership renewal tennis club {year}",
            "Insurance premium policy TW-{ord}",
            "Dividend payout Q{k} {company}",
            "Loan repayment installment {k} of 36",
            "Birthday present for {first}, love {first2}",
            "Supplier payment PO-{ord} {goods}",
            "Refund for returned {goods}",
            "Car service and new tyres, garage invoice {inv}",
            "Quarterly VAT payment {year} Q{k}",
            "Donation to the food bank, thank you",
            "Split dinner bill from Saturday",
            "Deposit for holiday cottage in {city2}",
            "Childcare {month} - {first}",
            "Payroll run {month} batch {k}");
    public static final List<String> BENIGN_MESSAGES = List.of(
            "{greet} can you tell me when my new card will arrive?",
            "{greet} please update my address, I moved to {city2}.",
            "Why was I charged a fee of {small} on my last statement?",
            "{greet} I'd like to raise my daily transfer limit for a house deposit next week.",
            "Can I get a copy of my statement for {month}? {thanks}",
            "My payment to {merchant} has been pending since yesterday, is that normal?",
            "How do I set up a standing order for my rent?",
            "Thanks for sorting out the problem with my online banking yesterday.",
            "{greet} I'll be travelling to {city2} next month, please don't block my card.",
            "Is there a way to get paper statements again? {thanks}",
            "I lost my card at the gym, I've frozen it in the app, please send a new one.",
            "What is the interest rate on the fixed term savings at the moment?");
    public static final List<String> BENIGN_TRADES = List.of(
            "{ticker} looking heavy into the close, trimming {qty}k",
            "Client order: buy {qty}k {ticker} VWAP through the day",
            "Filled {qty}k {ticker} at {px}, booking now",
            "Morning, any axes in {bond}?",
            "Rolling the {month} futures, spread at {px}",
            "Risk check: net delta flat on {ticker} after the hedge",
            "Research note out on {company}, rating unchanged at neutral",
            "Can you confirm the allocation for fund {n} on the {ticker} block?",
            "Bid {px} offered {px2} in {bond}, size {qty}m",
            "{ticker} earnings call at 3pm, no position change until then",
            "Sold {qty}k {ticker} for the index rebalance, all done");

    public static final List<String> SANCTIONS = List.of(
            "Payment via {shell} for the end user in {place}, do not mention the final destination",
            "Re-route through {hub} so the bank does not see it is for {designated}",
            "Split the invoice across two companies so the {place} delivery is not screened",
            "Goods go to {hub} first and are then transshipped to {place}",
            "Please remove the vessel name from the remittance information",
            "Use my cousin's account in {hub}, the {place} name gets flagged every time",
            "Dual-use parts for {designated}, describe them as agricultural equipment",
            "Paying on behalf of {designated}, keep the beneficiary name off the wire",
            "Consignment {ord} ultimately for {place}, invoice shows {hub} only",
            "Settle through {shell} instead, the direct route to {place} was blocked");
    public static final List<String> STRUCTURING = List.of(
            "Cash deposit {under}, will bring the rest tomorrow",
            "Keep each transfer under 10k so it doesn't get reported",
            "Part {k} of {m}, same as yesterday",
            "Split the {big} into several payments below the limit",
            "Deposit at the {city} branch, third one this week",
            "Can I deposit {under} today and again tomorrow instead of all at once?",
            "Send it in smaller chunks to different accounts, just under the threshold",
            "Another {under} in cash for the car",
            "{greet} I'd rather not fill in the form, I'll just do two smaller deposits",
            "Transfer {k} of {m} - stay below the reporting amount");
    public static final List<String> FRAUD = List.of(
            "URGENT: supplier changed bank details, pay the new IBAN today, CEO approved by email",
            "I did not authorise this payment to {merchant}, someone has my card details",
            "A caller from the bank told me to move my savings to a safe account, I sent {big}",
            "Got a text saying my account was locked and I entered my PIN on the link",
            "The investment platform promised 30% a month and now they want a release fee",
            "My partner abroad needs {big} for customs fees before he can visit me",
            "Our director asked for gift cards for a client, send the codes asap",
            "Someone logged in from a new device and changed my phone number",
            "Invoice {inv} - please note our new account details, the old account is closed for audit",
            "Please refund the overpayment to this crypto wallet instead of my card",
            "{greet} there are {k} payments I don't recognise, all to {merchant} overnight");
    public static final List<String> MARKET_ABUSE = List.of(
            "Keep this quiet, {company} results are out tomorrow and they beat, load up before",
            "My mate at {company} says the takeover is announced Monday",
            "Let's push {ticker} up into the close, print a few small lots at the offer",
            "Put big bids in {ticker} and pull them before they fill",
            "Buy some for my wife's account before the client order goes through",
            "We trade it back and forth between the two books to show volume in {ticker}",
            "Don't put this on the recorded line, call my mobile about {ticker}",
            "Front run the pension fund block in {ticker}, they're buying {qty}k",
            "Mark the close on {bond} for month end, we need the NAV up",
            "Heard about the {company} downgrade before release, short it now");

    public static final List<String> GREETINGS = List.of("Hi,", "Hello,", "Hey", "Good morning,", "Dear team,", "");
    public static final List<String> THANKS = List.of("Thanks!", "Thank you.", "Cheers", "thx", "");
}
