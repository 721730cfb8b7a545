package entra

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-oss/steward/connectors/input"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// inventory is everything read, from files or pages.
type inventory struct {
	apps            []application
	sps             []servicePrincipal
	appRoleAssigns  []appRoleAssignment
	dirRoles        []directoryRole
	roleAssignments []roleAssignment
	roleDefs        []roleDefinition
	armAssignments  []armAssignment
	armDefs         []armDefinition
	// skipped lists the directory's files that are no Graph or ARM
	// export, with why.
	skipped []string
}

// errUnrecognised marks a file that is no Graph or ARM export.
var errUnrecognised = errors.New("not a recognised Graph or ARM object")

// Entity kinds a page or file holds.
const (
	kindApplications     = "applications"
	kindServicePrincipal = "servicePrincipals"
	kindAppRoleAssigns   = "appRoleAssignments"
	kindDirectoryRoles   = "directoryRoles"
	kindRoleAssignments  = "roleAssignments"
	kindRoleDefinitions  = "roleDefinitions"
	kindARMAssignments   = "armRoleAssignments"
	kindARMDefinitions   = "armRoleDefinitions"
)

// decodeText returns data as UTF-8: PowerShell's Out-File writes UTF-16
// with a byte-order mark, and many tools a UTF-8 BOM.
func decodeText(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}), bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		out, _, err := transform.Bytes(dec, data)
		if err != nil {
			return nil, fmt.Errorf("decode UTF-16: %w", err)
		}
		return out, nil
	}
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), nil
}

// page is a Graph or ARM list response.
type page struct {
	Context  string            `json:"@odata.context"`
	NextLink string            `json:"@odata.nextLink"`
	ARMNext  string            `json:"nextLink"`
	Value    []json.RawMessage `json:"value"`
}

// kindFromContext reads the entity set from "@odata.context", e.g.
// "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals".
func kindFromContext(ctx string) string {
	_, frag, ok := strings.Cut(ctx, "#")
	if !ok {
		return ""
	}
	frag = strings.ToLower(frag)
	switch {
	case strings.Contains(frag, "approleassign"):
		return kindAppRoleAssigns
	case strings.HasPrefix(frag, "rolemanagement/directory/roleassignments"):
		return kindRoleAssignments
	case strings.HasPrefix(frag, "rolemanagement/directory/roledefinitions"):
		return kindRoleDefinitions
	case strings.HasPrefix(frag, "directoryroles"):
		return kindDirectoryRoles
	case strings.HasPrefix(frag, "serviceprincipals"):
		return kindServicePrincipal
	case strings.HasPrefix(frag, "applications"):
		return kindApplications
	}
	return ""
}

// kindFromShape classifies one item by the keys it has (compared
// case-insensitively, for PowerShell exports).
func kindFromShape(raw json.RawMessage) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	has := map[string]bool{}
	for k := range m {
		has[strings.ToLower(k)] = true
	}
	switch {
	case has["properties"]:
		var p struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if json.Unmarshal(raw, &p) != nil {
			return ""
		}
		props := map[string]bool{}
		for k := range p.Properties {
			props[strings.ToLower(k)] = true
		}
		switch {
		case props["principalid"] && props["roledefinitionid"]:
			return kindARMAssignments
		case props["rolename"]:
			return kindARMDefinitions
		}
	case has["approleid"] && has["resourceid"]:
		return kindAppRoleAssigns
	case has["roledefinitionid"] && has["principalid"]:
		return kindRoleAssignments
	case has["roletemplateid"]:
		return kindDirectoryRoles
	case has["rolepermissions"] || (has["templateid"] && has["isbuiltin"]):
		return kindRoleDefinitions
	case has["serviceprincipaltype"] || has["appownerorganizationid"] || has["serviceprincipalnames"]:
		return kindServicePrincipal
	case has["appid"] && (has["signinaudience"] || has["requiredresourceaccess"] || has["passwordcredentials"] || has["keycredentials"]):
		return kindApplications
	}
	return ""
}

// readDir loads every *.json file directly in dir.
func readDir(dir string) (*inventory, error) {
	files, err := input.Dir(dir, input.Ext(".json"))
	if err != nil {
		return nil, fmt.Errorf("entra: %w", err)
	}
	in := &inventory{}
	for _, f := range files {
		raw, err := input.ReadFile(f, input.JSON) // UTF-16 with a BOM arrives as UTF-8
		if err != nil {
			return nil, fmt.Errorf("entra: %w", err)
		}
		data, err := decodeText(raw)
		if err != nil {
			return nil, fmt.Errorf("entra: %s: %w", f, err)
		}
		if _, err := in.addDocument(f, data); err != nil {
			// Another kind of file beside the export is skipped with a
			// warning; a broken Graph or ARM file fails the load.
			if errors.Is(err, errUnrecognised) {
				in.skipped = append(in.skipped, err.Error())
				continue
			}
			return nil, err
		}
	}
	if len(in.skipped) == len(files) {
		return nil, fmt.Errorf("entra: %s: no file is a recognised export: %s", dir, strings.Join(in.skipped, "; "))
	}
	return in, nil
}

// addDocument adds a Graph/ARM page, a bare array (PowerShell) or a single
// object, and returns the page's next link.
func (in *inventory) addDocument(name string, data []byte) (string, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return "", fmt.Errorf("entra: %s: empty", name)
	}
	var items []json.RawMessage
	kind, field, next := "", "", ""
	switch t[0] {
	case '[':
		if err := json.Unmarshal(data, &items); err != nil {
			return "", jsonError(name, "", err)
		}
	case '{':
		var top map[string]json.RawMessage
		if err := json.Unmarshal(data, &top); err != nil {
			return "", jsonError(name, "", err)
		}
		if _, ok := top["value"]; ok {
			var p page
			if err := json.Unmarshal(data, &p); err != nil {
				return "", jsonError(name, "", err)
			}
			items, field, kind = p.Value, "value", kindFromContext(p.Context)
			next = p.NextLink
			if next == "" {
				next = p.ARMNext
			}
		} else {
			items = []json.RawMessage{json.RawMessage(data)}
		}
	default:
		return "", fmt.Errorf("entra: %s: offset 0: not a JSON object or array", name)
	}
	if len(items) == 0 {
		return next, nil
	}
	if kind == "" {
		kind = kindFromShape(items[0])
	}
	if kind == "" {
		return "", fmt.Errorf("entra: %s: %s: %w (servicePrincipal, application, appRoleAssignment, directoryRole, roleAssignment, roleDefinition)", name, elem(field, 0), errUnrecognised)
	}
	for i, raw := range items {
		if err := in.addItem(kind, raw); err != nil {
			return "", jsonError(name, elem(field, i), err)
		}
		if err := in.check(kind); err != nil {
			return "", fmt.Errorf("entra: %s: %s.%w", name, elem(field, i), err)
		}
	}
	return next, nil
}

func (in *inventory) addItem(kind string, raw json.RawMessage) error {
	switch kind {
	case kindApplications:
		return appendDecoded(raw, &in.apps)
	case kindServicePrincipal:
		return appendDecoded(raw, &in.sps)
	case kindAppRoleAssigns:
		return appendDecoded(raw, &in.appRoleAssigns)
	case kindDirectoryRoles:
		return appendDecoded(raw, &in.dirRoles)
	case kindRoleAssignments:
		return appendDecoded(raw, &in.roleAssignments)
	case kindRoleDefinitions:
		return appendDecoded(raw, &in.roleDefs)
	case kindARMAssignments:
		return appendDecoded(raw, &in.armAssignments)
	case kindARMDefinitions:
		return appendDecoded(raw, &in.armDefs)
	}
	return fmt.Errorf("unknown kind %q", kind)
}

func appendDecoded[T any](raw json.RawMessage, dst *[]T) error {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	*dst = append(*dst, v)
	return nil
}

// errMissing is a required field that is empty.
var errMissing = errors.New("empty")

// check validates the item just added: the ids every edge hangs on.
func (in *inventory) check(kind string) error {
	req := func(field, v string) error {
		if v == "" {
			return fmt.Errorf("%s: %w", field, errMissing)
		}
		return nil
	}
	switch kind {
	case kindApplications:
		return req("appId", in.apps[len(in.apps)-1].AppID)
	case kindServicePrincipal:
		return req("id", in.sps[len(in.sps)-1].ID)
	case kindAppRoleAssigns:
		a := in.appRoleAssigns[len(in.appRoleAssigns)-1]
		return errors.Join(req("principalId", a.PrincipalID), req("resourceId", a.ResourceID))
	case kindDirectoryRoles:
		return req("roleTemplateId", in.dirRoles[len(in.dirRoles)-1].RoleTemplateID)
	case kindRoleAssignments:
		a := in.roleAssignments[len(in.roleAssignments)-1]
		return errors.Join(req("principalId", a.PrincipalID), req("roleDefinitionId", a.RoleDefinitionID))
	case kindARMAssignments:
		a := in.armAssignments[len(in.armAssignments)-1]
		return errors.Join(req("properties.principalId", a.Properties.PrincipalID),
			req("properties.roleDefinitionId", a.Properties.RoleDefinitionID), req("properties.scope", a.Properties.Scope))
	}
	return nil
}

func elem(field string, i int) string {
	if field == "" {
		return fmt.Sprintf("[%d]", i)
	}
	return fmt.Sprintf("%s[%d]", field, i)
}

// jsonError names the file (or URL) and the place where decoding failed.
func jsonError(name, where string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		if where != "" {
			return fmt.Errorf("entra: %s: %s: offset %d: %w", name, where, se.Offset, err)
		}
		return fmt.Errorf("entra: %s: offset %d: %w", name, se.Offset, err)
	case errors.As(err, &te):
		f := te.Field
		if where != "" {
			f = where + "." + f
		}
		return fmt.Errorf("entra: %s: field %s (offset %d): %w", name, f, te.Offset, err)
	}
	if where != "" {
		return fmt.Errorf("entra: %s: %s: %w", name, where, err)
	}
	return fmt.Errorf("entra: %s: %w", name, err)
}
