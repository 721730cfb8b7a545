package demo

// Name lists. Order matters: the generator indexes into them, so changing
// a list changes every generated graph (and the golden expectations built
// on it).

var firstNames = []string{
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
	"karl", "laura", "mallory", "nina", "oscar", "peggy", "quentin", "rachel", "sam", "trent",
	"ursula", "victor", "wendy", "xavier", "yolanda", "zach", "aisha", "bruno", "chen", "diego",
	"elena", "fatima", "gabriel", "hana", "igor", "jamal", "kenji", "lucia", "mateo", "nadia",
	"olga", "priya", "rafael", "sofia", "tomas", "uma", "vikram", "wei", "yusuf", "zoe",
	"adam", "beatriz", "camille", "dmitri", "emma", "felix", "greta", "hugo", "ines", "jonas",
	"kira", "leo", "maya", "noah", "olivia", "pablo", "quinn", "rosa", "stefan", "tara",
	"aaron", "bianca", "conor", "dana", "ethan", "fiona", "gavin", "helen", "isaac", "julia",
	"kevin", "lena", "marco", "nora", "owen", "paula", "ravi", "sara", "theo", "vera",
	"amir", "brigit", "cyrus", "daria", "emil", "freya", "goran", "hiro", "ingrid", "jorge",
}

var lastNames = []string{
	"smith", "johnson", "garcia", "miller", "davis", "martinez", "lopez", "wilson", "anderson", "taylor",
	"thomas", "moore", "jackson", "martin", "lee", "thompson", "white", "harris", "clark", "lewis",
	"robinson", "walker", "young", "allen", "king", "wright", "scott", "torres", "nguyen", "hill",
	"flores", "green", "adams", "nelson", "baker", "hall", "rivera", "campbell", "mitchell", "carter",
	"roberts", "kowalski", "novak", "schmidt", "muller", "rossi", "ferrari", "dubois", "laurent", "jansen",
	"dejong", "nielsen", "larsen", "berg", "lindqvist", "virtanen", "horvath", "popescu", "ivanova", "petrov",
	"tanaka", "suzuki", "sato", "kim", "park", "choi", "wang", "zhang", "liu", "chen",
	"singh", "patel", "sharma", "gupta", "khan", "ali", "hassan", "ahmed", "okafor", "mensah",
	"silva", "santos", "oliveira", "pereira", "costa", "fernandez", "gomez", "diaz", "morales", "ortiz",
	"murphy", "kelly", "obrien", "walsh", "byrne", "fischer", "weber", "wagner", "becker", "hoffmann",
}

// teams are the engineering teams of the demo company. Every application,
// and so every identity, belongs to one.
var teams = []string{"payments", "platform", "data", "security", "growth", "infra", "ml", "identity", "mobile", "sre"}

// app is one of the company's services; identities are named after them.
type app struct{ name, team string }

var apps = []app{
	{"payments-api", "payments"}, {"checkout", "payments"}, {"ledger", "payments"}, {"billing-worker", "payments"}, {"invoice-renderer", "payments"},
	{"api-gateway", "platform"}, {"service-mesh", "platform"}, {"config-service", "platform"}, {"feature-flags", "platform"}, {"auth-service", "platform"},
	{"etl-loader", "data"}, {"warehouse-sync", "data"}, {"events-pipeline", "data"}, {"reporting", "data"}, {"dbt-runner", "data"},
	{"vault-sync", "security"}, {"siem-forwarder", "security"}, {"vuln-scanner", "security"}, {"secrets-rotator", "security"},
	{"recommendations", "growth"}, {"email-campaigns", "growth"}, {"referral-service", "growth"}, {"ab-testing", "growth"},
	{"log-shipper", "infra"}, {"monitoring", "infra"}, {"dns-updater", "infra"}, {"cert-manager", "infra"}, {"image-builder", "infra"},
	{"model-training", "ml"}, {"feature-store", "ml"}, {"inference-api", "ml"}, {"labeling-tool", "ml"},
	{"user-directory", "identity"}, {"sso-bridge", "identity"}, {"scim-sync", "identity"},
	{"push-notifications", "mobile"}, {"mobile-bff", "mobile"}, {"app-store-publisher", "mobile"},
	{"incident-bot", "sre"}, {"pager-sync", "sre"}, {"status-page", "sre"}, {"chaos-runner", "sre"},
}

// appAt names the j-th application instance: the base applications first,
// then numbered variants ("ledger-2"), so that names stay unique at any
// scale.
func appAt(j int) (name string, a app) {
	a = apps[j%len(apps)]
	if v := j / len(apps); v > 0 {
		return a.name + "-" + itoa(v+1), a
	}
	return a.name, a
}

// baseApp is the index of the base application of instance j.
func baseApp(j int) int { return j % len(apps) }
