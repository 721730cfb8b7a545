package entra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The Microsoft Graph and ARM shapes this connector reads. Field names are
// Graph's camelCase; encoding/json matches keys case-insensitively, so the
// PascalCase that PowerShell's Get-Mg* cmdlets write decodes too.

// msTime is a Graph timestamp: RFC 3339, or the "/Date(ms)/" form PowerShell's
// ConvertTo-Json writes (with or without escaped slashes), or null.
type msTime struct{ time.Time }

var msDateRE = regexp.MustCompile(`^\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/$`)

func (t *msTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		return nil
	}
	if m := msDateRE.FindStringSubmatch(s); m != nil {
		ms, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return fmt.Errorf("timestamp %q: %w", s, err)
		}
		t.Time = time.UnixMilli(ms).UTC()
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// ARM writes 7-digit fractions without a zone on some APIs.
		if v2, err2 := time.Parse("2006-01-02T15:04:05.9999999", s); err2 == nil {
			t.Time = v2.UTC()
			return nil
		}
		return fmt.Errorf("timestamp %q: %w", s, err)
	}
	t.Time = v.UTC()
	return nil
}

// oneOrMany accepts a JSON array, a single object (PowerShell collapses
// one-element collections) or null.
type oneOrMany[T any] []T

func (l *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*l = nil
		return nil
	case len(b) > 0 && b[0] == '{':
		var one T
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = []T{one}
		return nil
	}
	var many []T
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// passwordCredential / keyCredential. secretText and key (the secret and
// the certificate body) are deliberately not declared: they are never read.
// hint (the first characters of a secret) is not either.
type credential struct {
	KeyID               string  `json:"keyId"`
	DisplayName         *string `json:"displayName"`
	StartDateTime       msTime  `json:"startDateTime"`
	EndDateTime         msTime  `json:"endDateTime"`
	Type                string  `json:"type"`  // keyCredential: AsymmetricX509Cert, Symmetric
	Usage               string  `json:"usage"` // keyCredential: Verify, Sign
	CustomKeyIdentifier string  `json:"customKeyIdentifier"`
}

type directoryObject struct {
	ODataType            string `json:"@odata.type"`
	ID                   string `json:"id"`
	DisplayName          string `json:"displayName"`
	UserPrincipalName    string `json:"userPrincipalName"`
	Mail                 string `json:"mail"`
	AppID                string `json:"appId"`
	ServicePrincipalType string `json:"servicePrincipalType"`
}

type application struct {
	ID                  string                `json:"id"`
	AppID               string                `json:"appId"`
	DisplayName         string                `json:"displayName"`
	SignInAudience      string                `json:"signInAudience"`
	PublisherDomain     string                `json:"publisherDomain"`
	CreatedDateTime     msTime                `json:"createdDateTime"`
	PasswordCredentials oneOrMany[credential] `json:"passwordCredentials"`
	KeyCredentials      oneOrMany[credential] `json:"keyCredentials"`
	Owners              []directoryObject     `json:"owners"`
	Tags                []string              `json:"tags"`
}

type appRole struct {
	ID          string `json:"id"`
	Value       string `json:"value"`
	DisplayName string `json:"displayName"`
}

type servicePrincipal struct {
	ID                     string                `json:"id"`
	AppID                  string                `json:"appId"`
	DisplayName            string                `json:"displayName"`
	ServicePrincipalType   string                `json:"servicePrincipalType"`
	AppOwnerOrganizationID string                `json:"appOwnerOrganizationId"`
	AccountEnabled         *bool                 `json:"accountEnabled"`
	AlternativeNames       []string              `json:"alternativeNames"`
	PasswordCredentials    oneOrMany[credential] `json:"passwordCredentials"`
	KeyCredentials         oneOrMany[credential] `json:"keyCredentials"`
	AppRoles               []appRole             `json:"appRoles"`
	Owners                 []directoryObject     `json:"owners"`
	Tags                   []string              `json:"tags"`
	CreatedDateTime        msTime                `json:"createdDateTime"`
}

type appRoleAssignment struct {
	ID                   string `json:"id"`
	AppRoleID            string `json:"appRoleId"`
	PrincipalID          string `json:"principalId"`
	PrincipalType        string `json:"principalType"`
	PrincipalDisplayName string `json:"principalDisplayName"`
	ResourceID           string `json:"resourceId"`
	ResourceDisplayName  string `json:"resourceDisplayName"`
	CreatedDateTime      msTime `json:"createdDateTime"`
}

// directoryRole is an activated role (GET /directoryRoles, optionally
// with $expand=members).
type directoryRole struct {
	ID             string            `json:"id"`
	DisplayName    string            `json:"displayName"`
	RoleTemplateID string            `json:"roleTemplateId"`
	Members        []directoryObject `json:"members"`
}

// roleAssignment is a unifiedRoleAssignment
// (GET /roleManagement/directory/roleAssignments?$expand=principal).
type roleAssignment struct {
	ID               string           `json:"id"`
	RoleDefinitionID string           `json:"roleDefinitionId"`
	PrincipalID      string           `json:"principalId"`
	DirectoryScopeID string           `json:"directoryScopeId"`
	Principal        *directoryObject `json:"principal"`
}

// roleDefinition is a unifiedRoleDefinition.
type roleDefinition struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	TemplateID  string `json:"templateId"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
}

type armAssignment struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
		PrincipalID      string `json:"principalId"`
		PrincipalType    string `json:"principalType"`
		Scope            string `json:"scope"`
		Condition        string `json:"condition"`
		CreatedOn        msTime `json:"createdOn"`
	} `json:"properties"`
}

type armPermission struct {
	Actions    []string `json:"actions"`
	NotActions []string `json:"notActions"`
}

type armDefinition struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		RoleName    string          `json:"roleName"`
		Type        string          `json:"type"`
		Permissions []armPermission `json:"permissions"`
	} `json:"properties"`
}

// guidOf returns the last path segment of an ARM id
// (".../roleDefinitions/<guid>" -> "<guid>"), lower-case.
func guidOf(id string) string {
	return strings.ToLower(id[strings.LastIndexByte(id, '/')+1:])
}
